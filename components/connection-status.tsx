"use client";
/**
 * The Socket.IO connection as a dot and a word, for the header. Below the `sm` breakpoint the word
 * is for screen readers only: a phone's header keeps its width for the lane counts.
 */
import type { ConnectionState as Status } from "./realtime-client";
import { useConnectionStatus } from "./realtime-context";

const LOOK: Record<Status, { dot: string; text: string; label: string }> = {
  connecting: { dot: "bg-zinc-400 animate-pulse", text: "text-zinc-400", label: "Connecting…" },
  connected: { dot: "bg-emerald-400", text: "text-emerald-300", label: "Live" },
  reconnecting: { dot: "bg-amber-400 animate-pulse", text: "text-amber-300", label: "Reconnecting…" },
  offline: { dot: "bg-red-500", text: "text-red-300", label: "Offline" },
};

export function ConnectionStatus() {
  const status = useConnectionStatus();
  const look = LOOK[status];
  return (
    <span
      data-testid="connection-status"
      data-status={status}
      role="status"
      className={`inline-flex shrink-0 items-center gap-2 rounded-full border border-zinc-800 bg-zinc-900 px-2 py-1.5 text-xs sm:px-2.5 sm:py-1 ${look.text}`}
      title={status === "connected" ? "Receiving live lane events" : "Live updates paused; the board catches up on reconnect"}
    >
      <span aria-hidden className={`size-2 rounded-full ${look.dot}`} />
      <span className="sr-only sm:not-sr-only">{look.label}</span>
    </span>
  );
}
