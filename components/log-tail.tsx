"use client";
/**
 * The last few lines of a lane's output, live, for a lane card. Not virtualized: it holds at
 * most `lines` entries. After a reconnect it reads on from the byte offsets it holds (up to
 * `lines` lines), as the lane page does, instead of taking a fresh tail.
 */
import { LogRow } from "./log-row";
import { useLaneLog } from "./use-lane-log";

export function LogTail({ laneId, lines = 8 }: { laneId: string; lines?: number }) {
  const log = useLaneLog(laneId, { tail: lines, maxEntries: lines, resumeBudget: lines });
  return (
    <div
      data-testid="lane-log"
      role="log"
      aria-live="off"
      aria-label="Latest output"
      className="overflow-hidden rounded-md border border-zinc-800/80 bg-black/60 py-1 font-mono text-[11px] leading-4"
      style={{ height: `calc(${lines} * 1rem + 0.5rem)` }}
    >
      {log.error ? (
        <p className="px-2 text-red-300">{log.error}</p>
      ) : log.entries.length === 0 ? (
        <p className="px-2 text-zinc-600">{log.loaded ? "no output yet" : "…"}</p>
      ) : (
        // The newest `lines` entries: a partial line on show comes last and must stay visible.
        log.entries.slice(-lines).map((e) => (
          <div key={e.key} className="h-4 overflow-hidden">
            <LogRow entry={e} />
          </div>
        ))
      )}
    </div>
  );
}
