"use client";
/**
 * The full output of a lane, virtualized with @tanstack/react-virtual (fixed 18px rows, no
 * wrapping; long lines scroll horizontally), so tens of thousands of lines cost the DOM only
 * the rows on screen. Follows the end while the reader is at the bottom; scrolling up pauses
 * following and shows a "Jump to latest" button.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, useState } from "react";
import type { LogEntry } from "./log-buffer";
import { LogRow } from "./log-row";

const ROW_PX = 18;
/** Within this many pixels of the end counts as "at the bottom". */
const BOTTOM_SLACK_PX = ROW_PX * 2;

export function VirtualLog({ entries, label, emptyText }: { entries: LogEntry[]; label: string; emptyText: string }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [following, setFollowing] = useState(true);
  // TanStack Virtual returns fresh functions each render by design; the React Compiler lint knows it cannot memoize them.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: entries.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_PX,
    overscan: 30,
    getItemKey: (i) => entries[i]?.key ?? i,
  });

  useEffect(() => {
    if (following && entries.length > 0) virtualizer.scrollToIndex(entries.length - 1, { align: "end" });
  }, [following, entries.length, virtualizer]);

  const onScroll = (e: React.UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    setFollowing(el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX);
  };

  return (
    <div className="relative">
      <div
        ref={scrollRef}
        onScroll={onScroll}
        data-testid="lane-log"
        data-following={following}
        role="log"
        aria-live="off"
        aria-label={label}
        tabIndex={0}
        className="h-[60vh] min-h-64 overflow-auto rounded-md border border-zinc-800 bg-black/70 font-mono text-xs leading-[18px] focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500/50"
      >
        {entries.length === 0 ? (
          <p className="p-3 text-zinc-600">{emptyText}</p>
        ) : (
          <div className="relative w-max min-w-full" style={{ height: virtualizer.getTotalSize() }}>
            {virtualizer.getVirtualItems().map((row) => (
              <div
                key={row.key}
                className="absolute left-0 top-0 w-full"
                style={{ height: ROW_PX, transform: `translateY(${row.start}px)` }}
              >
                <LogRow entry={entries[row.index]!} showTime />
              </div>
            ))}
          </div>
        )}
      </div>
      {!following && entries.length > 0 && (
        <button
          type="button"
          onClick={() => setFollowing(true)}
          className="absolute bottom-3 right-5 rounded-md bg-sky-600 px-2.5 py-1 text-xs font-medium text-white shadow-lg hover:bg-sky-500"
        >
          Jump to latest ↓
        </button>
      )}
    </div>
  );
}
