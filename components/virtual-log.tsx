"use client";
/**
 * Process output, virtualized with @tanstack/react-virtual (fixed 18px rows, no wrapping; long
 * lines scroll inside the log, never the page), so tens of thousands of lines cost the DOM only
 * the rows on screen.
 *
 * Following the end: the view follows while the person has not scrolled away. Only the person's
 * own input (wheel, touch, keys, dragging the scrollbar) can stop following; scroll events caused
 * by the content growing, by the buffer dropping its oldest rows or by our own scrolling cannot,
 * so a burst of tens of thousands of lines keeps the end in view. When not following, the row at
 * the top stays put while rows are added or dropped elsewhere.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import type { LogEntry } from "./log-buffer";
import { LogRow } from "./log-row";

const ROW_PX = 18;
/** Within this many pixels of the end counts as "at the bottom". */
const BOTTOM_SLACK_PX = ROW_PX * 2;
/** A scroll this soon (ms) after the person's input is theirs. */
const INTENT_MS = 400;

export interface VirtualLogProps {
  entries: LogEntry[];
  label: string;
  emptyText: string;
  /** Row keys to tint as search matches, and the one to outline as the current match. */
  matches?: ReadonlySet<string>;
  current?: string | null;
  /** Scroll to this row (and stop following); `nonce` repeats a jump to the same row. */
  jump?: { index: number; nonce: number } | null;
  /** A gap marker's "load" button was pressed. */
  onLoadGap?: (markerKey: string) => void;
  /** Height class of the scroll box. */
  heightClass?: string;
}

export function VirtualLog({ entries, label, emptyText, matches, current, jump, onLoadGap, heightClass = "h-[60vh] min-h-64" }: VirtualLogProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [following, setFollowing] = useState(true);
  const intentAt = useRef(0);
  /** The row at the top of the view and its offset, to keep it in place while not following. */
  const anchor = useRef<{ key: string; delta: number } | null>(null);
  // TanStack Virtual returns fresh functions each render by design; the React Compiler lint knows it cannot memoize them.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: entries.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_PX,
    overscan: 30,
    getItemKey: (i) => entries[i]?.key ?? i,
  });

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el || entries.length === 0) return;
    if (following) {
      el.scrollTop = el.scrollHeight;
      return;
    }
    const a = anchor.current;
    if (!a) return;
    // Keep the anchored row where it was (rows were added above it, or dropped from the head).
    const idx = entries.findIndex((e) => e.key === a.key);
    if (idx >= 0) {
      const want = idx * ROW_PX + a.delta;
      if (Math.abs(el.scrollTop - want) >= 1) el.scrollTop = want;
    }
  }, [entries, following]);

  useEffect(() => {
    if (!jump) return;
    setFollowing(false);
    virtualizer.scrollToIndex(jump.index, { align: "center" });
  }, [jump, virtualizer]);

  const markIntent = () => {
    intentAt.current = performance.now();
  };
  const onScroll = (e: React.UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX;
    const top = Math.floor(el.scrollTop / ROW_PX);
    const key = entries[top]?.key;
    anchor.current = key === undefined ? null : { key, delta: el.scrollTop - top * ROW_PX };
    if (atBottom) setFollowing(true);
    else if (performance.now() - intentAt.current < INTENT_MS) setFollowing(false);
  };

  return (
    <div className="relative min-w-0">
      <div
        ref={scrollRef}
        onScroll={onScroll}
        onWheel={markIntent}
        onTouchMove={markIntent}
        onKeyDown={markIntent}
        onPointerDown={markIntent}
        data-testid="lane-log"
        data-following={following}
        data-rows={entries.length}
        role="log"
        aria-live="off"
        aria-label={label}
        tabIndex={0}
        className={`${heightClass} overflow-auto rounded-md border border-zinc-800 bg-black/70 font-mono text-xs leading-[18px] focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500/50`}
      >
        {entries.length === 0 ? (
          <p className="p-3 text-zinc-400">{emptyText}</p>
        ) : (
          <div className="relative w-max min-w-full" style={{ height: virtualizer.getTotalSize() }}>
            {virtualizer.getVirtualItems().map((row) => {
              const entry = entries[row.index]!;
              const mark = entry.key === current ? "current" : matches?.has(entry.key) ? "match" : undefined;
              return (
                <div key={row.key} className="absolute left-0 top-0 w-full" style={{ height: ROW_PX, transform: `translateY(${row.start}px)` }}>
                  <LogRow entry={entry} showTime mark={mark} onLoadGap={onLoadGap} />
                </div>
              );
            })}
          </div>
        )}
      </div>
      {!following && entries.length > 0 && (
        <button
          type="button"
          data-testid="jump-latest"
          onClick={() => setFollowing(true)}
          className="absolute bottom-3 right-5 rounded-md bg-sky-600 px-2.5 py-1 text-xs font-medium text-white shadow-lg hover:bg-sky-500 focus-visible:outline-2 focus-visible:outline-sky-300"
        >
          Jump to latest ↓
        </button>
      )}
    </div>
  );
}
