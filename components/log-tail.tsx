"use client";
/**
 * The last few lines of a lane's output, live, for a lane card. Not virtualized: it holds at
 * most `lines` entries. After a reconnect it reads on from the byte offsets it holds (up to
 * `lines` lines), as the lane page does, instead of taking a fresh tail.
 */
import { useEffect, useState } from "react";
import { LogRow } from "./log-row";
import { useLaneLog } from "./use-lane-log";
import { isScrollSettled, useScrollSettled } from "./use-scroll-settled";

/**
 * A card's tail is read at a glance, not followed line by line: four updates a second keep it
 * live while leaving the main thread free to scroll a board with many lanes printing.
 */
const TAIL_RENDER_INTERVAL_MS = 250;

/**
 * A card's tail: live once the card has been on screen while the page was still (see
 * useScrollSettled), and from then on while the card stays mounted; while the page scrolls it
 * holds its re-renders (useLaneLog `holdWhileScrolling`). Only a tail not live yet follows the
 * page's scrolling state: a live one re-rendering at each start and end of a scroll would do so
 * with every card on screen.
 */
export function LogTail({ laneId, lines = 8 }: { laneId: string; lines?: number }) {
  const [live, setLive] = useState(isScrollSettled);
  if (live) return <LiveTail laneId={laneId} lines={lines} />;
  return <PendingTail lines={lines} onSettled={() => setLive(true)} />;
}

function PendingTail({ lines, onSettled }: { lines: number; onSettled: () => void }) {
  const settled = useScrollSettled();
  useEffect(() => {
    if (settled) onSettled();
  }, [settled, onSettled]);
  return (
    <TailBox lines={lines}>
      <p className="px-2 text-zinc-600">…</p>
    </TailBox>
  );
}

function TailBox({ lines, children }: { lines: number; children: React.ReactNode }) {
  return (
    <div
      data-testid="lane-log"
      role="log"
      aria-live="off"
      aria-label="Latest output"
      className="overflow-hidden rounded-md border border-zinc-800/80 bg-black/60 py-1 font-mono text-[11px] leading-4"
      // Its size never depends on its lines (fixed height, the card's width): with strict
      // containment a new line re-lays out and repaints this box alone, not the board.
      style={{ height: `calc(${lines} * 1rem + 0.5rem)`, contain: "strict" }}
    >
      {children}
    </div>
  );
}

function LiveTail({ laneId, lines }: { laneId: string; lines: number }) {
  const log = useLaneLog(laneId, { tail: lines, maxEntries: lines, resumeBudget: lines, renderIntervalMs: TAIL_RENDER_INTERVAL_MS, holdWhileScrolling: true });
  return (
    <TailBox lines={lines}>
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
    </TailBox>
  );
}
