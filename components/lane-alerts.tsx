"use client";
/**
 * Telling a person when a lane needs them or went red (lib/lane-attention.ts ALERT_EVENT_TYPES),
 * on whatever page they are: an in-page toast (sonner) with an Open action, and — once they opted
 * in and the browser granted it — a system notification through the Notification API. A burst
 * (more than {@link BURST} alerts in {@link BURST_WINDOW_MS}) becomes one summary toast instead
 * of a wall of them. Only live events alert: a reconnect's catch-up does not replay old news.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useSyncExternalStore } from "react";
import { toast, Toaster } from "sonner";
import type { BoardResponse } from "@/lib/api";
import { describeLaneEvent } from "@/lib/event-sentence";
import { alertOf, isAlertEvent } from "@/lib/lane-attention";
import type { LaneEvent } from "@/lib/lane-events";
import { laneKeys } from "./query-keys";
import { useRealtime } from "./realtime-context";

const BURST = 4;
const BURST_WINDOW_MS = 3000;
const OPT_IN_KEY = "laneboard.notifications";

// ---- opt-in state (localStorage + the browser's permission), as an external store ----
type OptIn = "unsupported" | "denied" | "off" | "on";
const optInListeners = new Set<() => void>();
function readOptIn(): OptIn {
  if (typeof window === "undefined" || !("Notification" in window)) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  return Notification.permission === "granted" && localStorage.getItem(OPT_IN_KEY) === "on" ? "on" : "off";
}
// Read once and kept: React asks for the snapshot on every render of the header (every live event
// re-renders the board), and `Notification.permission` asks the browser process each time, about
// 1.6 ms a read on this machine (2.3 s of main thread for 500 events). Refreshed when it can change:
// the toggle, another tab (storage), the permission itself, and returning to the page (site settings).
let optIn: OptIn | null = null;
const refreshOptIn = () => {
  const next = readOptIn();
  if (next === optIn) return;
  optIn = next;
  optInListeners.forEach((l) => l());
};
function watchOptIn(): () => void {
  window.addEventListener("storage", refreshOptIn);
  window.addEventListener("focus", refreshOptIn);
  let permission: PermissionStatus | null = null;
  void navigator.permissions
    ?.query({ name: "notifications" })
    .then((status) => {
      permission = status;
      status.addEventListener("change", refreshOptIn);
    })
    .catch(() => {});
  return () => {
    window.removeEventListener("storage", refreshOptIn);
    window.removeEventListener("focus", refreshOptIn);
    permission?.removeEventListener("change", refreshOptIn);
  };
}
let unwatchOptIn: (() => void) | null = null;
const subscribeOptIn = (l: () => void) => {
  optInListeners.add(l);
  if (optInListeners.size === 1) {
    unwatchOptIn = watchOptIn();
    optIn = readOptIn();
  }
  return () => {
    optInListeners.delete(l);
    if (optInListeners.size > 0) return;
    unwatchOptIn?.();
    unwatchOptIn = null;
    optIn = null;
  };
};
const optInSnapshot = (): OptIn => optIn ?? readOptIn();
const notifyOptIn = refreshOptIn;

/** Whether system notifications are on, and a toggle that asks the browser's permission the first time. */
export function useNotificationOptIn(): { state: OptIn; toggle: () => Promise<void> } {
  const state = useSyncExternalStore(subscribeOptIn, optInSnapshot, () => "off" as const);
  const toggle = async () => {
    if (state === "on") localStorage.setItem(OPT_IN_KEY, "off");
    else if ((await Notification.requestPermission()) === "granted") localStorage.setItem(OPT_IN_KEY, "on");
    notifyOptIn();
  };
  return { state, toggle };
}

export function NotificationToggle() {
  const { state, toggle } = useNotificationOptIn();
  if (state === "unsupported") return null;
  const label = state === "on" ? "Notifications on" : state === "denied" ? "Notifications blocked" : "Notify me";
  return (
    <button
      type="button"
      data-testid="notify-toggle"
      data-state={state}
      aria-pressed={state === "on"}
      disabled={state === "denied"}
      title={state === "denied" ? "The browser blocks notifications for this site; allow them in its site settings" : "System notifications when a lane needs you or goes red"}
      onClick={() => void toggle()}
      className="hidden shrink-0 rounded-full border border-zinc-700 px-2.5 py-1 text-xs text-zinc-200 hover:bg-zinc-800 disabled:opacity-60 sm:inline-flex"
    >
      {label}
    </button>
  );
}

/** Mount once (app/providers.tsx): the toaster and the listener that raises alerts. */
export function LaneAlerts() {
  const realtime = useRealtime();
  const qc = useQueryClient();
  const router = useRouter();
  useEffect(() => {
    let recent: number[] = [];
    return realtime.onLiveEvent((ev: LaneEvent) => {
      if (!isAlertEvent(ev.type)) return;
      const lane = qc.getQueryData<BoardResponse>(laneKeys.board)?.lanes.find((l) => l.id === ev.laneId) ?? null;
      const alert = alertOf(ev.type, lane);
      const sentence = describeLaneEvent(ev).sentence;
      const now = Date.now();
      recent = recent.filter((t) => now - t < BURST_WINDOW_MS).concat(now);
      if (recent.length > BURST) {
        toast.warning(`${recent.length} lanes need you`, { id: "lane-alert-burst", description: "Open the board's Needs you list.", action: { label: "Board", onClick: () => router.push("/?needs=any") } });
      } else {
        const show = alert.tone === "error" ? toast.error : alert.tone === "success" ? toast.success : toast.warning;
        show(alert.title, {
          id: `lane-alert-${ev.id}`,
          description: `${sentence}${lane ? ` — ${alert.body}` : ""}`,
          action: ev.laneId ? { label: "Open", onClick: () => router.push(`/lanes/${encodeURIComponent(ev.laneId!)}`) } : undefined,
        });
      }
      if (readOptIn() === "on") {
        const n = new Notification(alert.title, { body: `${sentence}\n${alert.body}`, tag: ev.laneId ?? `event-${ev.id}` });
        n.onclick = () => {
          window.focus();
          if (ev.laneId) router.push(`/lanes/${encodeURIComponent(ev.laneId)}`);
        };
      }
    });
  }, [realtime, qc, router]);
  return <Toaster theme="dark" richColors closeButton position="bottom-right" toastOptions={{ className: "text-sm" }} />;
}
