"use client";
/**
 * The board's three views of the filtered lanes, each virtualized so only what is on screen is
 * in the DOM (and only on-screen cards subscribe to live output):
 * - cards: a responsive grid, rows virtualized against the window scroll;
 * - table: one dense row per lane, virtualized against the window scroll;
 * - columns: queued → running → checking → needs you → done, each column scrolling on its own.
 * `activeId` is the keyboard cursor (j/k); the view scrolls it into view.
 */
import { observeWindowOffset, useVirtualizer, useWindowVirtualizer, type Virtualizer } from "@tanstack/react-virtual";
import Link from "next/link";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { FIRST_LANES } from "@/lib/board-first-screen";
import { BOARD_COLUMN_LABEL, BOARD_COLUMNS, groupByColumn, type BoardLane } from "@/lib/board-query";
import { ATTENTION_LABEL } from "@/lib/lane-attention";
import { AttentionActionButton } from "./attention-action";
import { CheckChips, LaneStatusBadge } from "./lane-bits";
import { LaneCard } from "./lane-card";
import { formatRelative, useHydrated, useNow } from "./time";

export interface ViewProps {
  lanes: BoardLane[];
  selected: ReadonlySet<string>;
  onSelect: (laneId: string, selected: boolean) => void;
  activeId: string | null;
}

const CARD_MIN_WIDTH = 330;
const GAP = 12;

/**
 * Options every board virtualizer shares: a scroll that does not change which items are on screen
 * renders nothing. The virtualizer writes the items' `top` and the container's height to the DOM
 * itself when its measurements change (@tanstack/react-virtual `directDomUpdates`) and asks React
 * to render only when the range of items or its scrolling flag changes. Before, every scroll event
 * rendered the view synchronously (flushSync), each frame of a scroll, for items that had not
 * moved. The views' JSX sets the same `top` and height from the same measurements (so the
 * server's HTML has them too); each item reaches the virtualizer through `measureElement` (with
 * `data-index`), the container through `containerRef`.
 */
const DIRECT = { directDomUpdates: true, directDomUpdatesMode: "position" } as const;
/** {@link DIRECT}, for the views that scroll with the window. */
const WINDOW = { ...DIRECT, observeElementOffset: observeWindowOffsetNow } as const;

/**
 * The window's scroll offset for a window virtualizer, read once as it attaches and then on each
 * scroll event. react-virtual's own `observeWindowOffset` (virtual-core 3.x) reads it only on
 * scroll events, so a page scrolled before it hydrated (the server's HTML is long enough to
 * scroll) kept showing the rows of the top, over blank space, until the next scroll.
 */
function observeWindowOffsetNow(instance: Virtualizer<Window, Element>, cb: (offset: number, isScrolling: boolean) => void): (() => void) | undefined {
  const stop = observeWindowOffset(instance, cb);
  const win = instance.scrollElement;
  if (win && win.scrollY !== 0) cb(win.scrollY, false);
  return stop;
}

/** One ref callback for a container: the view's own `ref` and the virtualizer's. */
function useContainerRef(ref: React.RefObject<HTMLDivElement | null>, containerRef: (node: HTMLElement | null) => void) {
  return useCallback(
    (node: HTMLDivElement | null) => {
      ref.current = node;
      containerRef(node);
    },
    [ref, containerRef],
  );
}

/** The element's offset from the top of the document, kept up to date (the window virtualizer's scrollMargin). */
function useDocumentTop(ref: React.RefObject<HTMLElement | null>): number {
  const [top, setTop] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setTop(el.getBoundingClientRect().top + window.scrollY);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(document.body);
    return () => ro.disconnect();
  }, [ref]);
  return top;
}

function useWidth(ref: React.RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(1200);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(([entry]) => setWidth(entry!.contentRect.width));
    ro.observe(el);
    setWidth(el.getBoundingClientRect().width);
    return () => ro.disconnect();
  }, [ref]);
  return width;
}

/**
 * Cards rendered in the server's HTML (and while it hydrates): the first screen's (at most
 * {@link FIRST_LANES}), in a CSS grid that has as many columns as the virtualized grid will
 * (auto-fill of the same minimum width and gap), so a phone shows one column from the first paint.
 * The virtualizer, which needs the window's size, takes over once the page is hydrated.
 */
const FIRST_CARDS = FIRST_LANES.cards;

export function CardsView({ lanes, selected, onSelect, activeId }: ViewProps) {
  const ref = useRef<HTMLDivElement>(null);
  const hydrated = useHydrated();
  const width = useWidth(ref);
  const cols = Math.max(1, Math.floor((width + GAP) / (CARD_MIN_WIDTH + GAP)));
  const rows = Math.ceil(lanes.length / cols);
  const scrollMargin = useDocumentTop(ref);
  const v = useWindowVirtualizer({ count: rows, estimateSize: () => 430, overscan: 1, scrollMargin, gap: GAP, ...WINDOW });
  const containerRef = useContainerRef(ref, v.containerRef);
  const activeIndex = activeId ? lanes.findIndex((l) => l.lane.id === activeId) : -1;
  useEffect(() => {
    if (activeIndex >= 0) v.scrollToIndex(Math.floor(activeIndex / cols), { align: "auto" });
  }, [activeIndex, cols, v]);
  const card = (l: BoardLane) => <LaneCard key={l.lane.id} lane={l.lane} attention={l.attention} selected={selected.has(l.lane.id)} onSelect={onSelect} active={l.lane.id === activeId} />;
  if (!hydrated) {
    return (
      <div ref={ref} data-testid="board-cards" data-count={lanes.length} className="grid" style={{ gridTemplateColumns: `repeat(auto-fill, minmax(${CARD_MIN_WIDTH}px, 1fr))`, gap: GAP }}>
        {lanes.slice(0, FIRST_CARDS).map(card)}
      </div>
    );
  }
  return (
    <div ref={containerRef} data-testid="board-cards" data-count={lanes.length} style={{ height: v.getTotalSize(), position: "relative" }}>
      {v.getVirtualItems().map((row) => (
        <div
          key={row.key}
          data-index={row.index}
          ref={v.measureElement}
          className="absolute inset-x-0 top-0 grid"
          style={{ top: row.start - v.options.scrollMargin, gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))`, gap: GAP }}
        >
          {lanes.slice(row.index * cols, row.index * cols + cols).map(card)}
        </div>
      ))}
    </div>
  );
}

const ROW_HEIGHT = 40;
/** The window size assumed before it is measured (server render and hydration), px. */
const FIRST_RECT = { width: 1280, height: 900 };

export function TableView({ lanes, selected, onSelect, activeId }: ViewProps) {
  const ref = useRef<HTMLDivElement>(null);
  const scrollMargin = useDocumentTop(ref);
  const now = useNow();
  const hydrated = useHydrated();
  // The server renders (and the page hydrates) a window's worth of rows from the top; the real
  // window size and scroll position are measured right after.
  const v = useWindowVirtualizer({ count: lanes.length, estimateSize: () => ROW_HEIGHT, overscan: 8, scrollMargin, initialRect: FIRST_RECT, initialOffset: 0, ...WINDOW });
  const containerRef = useContainerRef(ref, v.containerRef);
  const activeIndex = activeId ? lanes.findIndex((l) => l.lane.id === activeId) : -1;
  useEffect(() => {
    if (activeIndex >= 0) v.scrollToIndex(activeIndex, { align: "auto" });
  }, [activeIndex, v]);
  const grid = "grid grid-cols-[1.5rem_8.5rem_minmax(10rem,2fr)_minmax(8rem,1fr)_5rem_minmax(8rem,1fr)_minmax(10rem,1.5fr)_5rem] items-center gap-2 px-2";
  return (
    <div className="overflow-x-auto rounded-lg border border-zinc-800">
      <div role="table" aria-label="Lanes" aria-rowcount={lanes.length} data-testid="board-table" data-count={lanes.length} className="min-w-[60rem] text-xs">
        <div role="row" className={`${grid} h-8 border-b border-zinc-800 bg-zinc-900 font-medium text-zinc-300`}>
          {/* The cell stays in the grid; only its text is visually hidden (sr-only on the cell
              itself takes it out of the grid's flow, and every header moved one column left). */}
          <span role="columnheader"><span className="sr-only">Select</span></span>
          <span role="columnheader">State</span>
          <span role="columnheader">Objective</span>
          <span role="columnheader">Branch</span>
          <span role="columnheader">Engine</span>
          <span role="columnheader">Checks</span>
          <span role="columnheader">Needs</span>
          <span role="columnheader">Activity</span>
        </div>
        <div ref={containerRef} style={{ height: v.getTotalSize(), position: "relative" }}>
          {v.getVirtualItems().map((item) => {
            const { lane, attention, activityAt } = lanes[item.index]!;
            const active = lane.id === activeId;
            return (
              <div
                key={lane.id}
                data-index={item.index}
                ref={v.measureElement}
                role="row"
                data-testid="lane-row"
                data-lane-id={lane.id}
                data-state={lane.state}
                data-active={active || undefined}
                className={`${grid} absolute inset-x-0 top-0 border-b border-zinc-800/60 ${active ? "bg-sky-500/15" : "hover:bg-zinc-900"}`}
                style={{ height: ROW_HEIGHT, top: item.start - v.options.scrollMargin }}
              >
                <span role="cell">
                  <input type="checkbox" data-testid="lane-select" aria-label={`Select lane ${lane.slug || lane.id}`} checked={selected.has(lane.id)} onChange={(e) => onSelect(lane.id, e.target.checked)} className="size-3.5 accent-sky-500" />
                </span>
                <span role="cell"><LaneStatusBadge lane={lane} /></span>
                <Link prefetch={false} role="cell" href={`/lanes/${encodeURIComponent(lane.id)}`} className="truncate text-zinc-100 hover:text-sky-300 hover:underline" title={lane.objective}>
                  {lane.objective}
                </Link>
                <span role="cell" className="truncate font-mono text-sky-300" title={lane.branch}>{lane.branch}</span>
                <span role="cell" className="truncate font-mono text-zinc-300">{lane.engine}</span>
                <span role="cell" className="min-w-0 overflow-hidden"><CheckChips checks={lane.checks} /></span>
                <span role="cell" className="flex min-w-0 items-center gap-2">
                  {attention && (
                    <>
                      <span className="truncate text-amber-200" title={attention.reason}>{ATTENTION_LABEL[attention.kind]}</span>
                      <AttentionActionButton lane={lane} action={attention.action} />
                    </>
                  )}
                </span>
                <time role="cell" dateTime={activityAt} className="text-zinc-400">{hydrated && formatRelative(activityAt, now)}</time>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function Column({ title, lanes, activeId }: { title: string; lanes: BoardLane[]; activeId: string | null }) {
  const ref = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({ count: lanes.length, getScrollElement: () => ref.current, estimateSize: () => 92, overscan: 4, gap: 6, ...DIRECT });
  const activeIndex = activeId ? lanes.findIndex((l) => l.lane.id === activeId) : -1;
  useEffect(() => {
    if (activeIndex >= 0) v.scrollToIndex(activeIndex, { align: "auto" });
  }, [activeIndex, v]);
  return (
    <section aria-label={title} data-testid="board-column" className="flex min-w-0 flex-col rounded-lg border border-zinc-800 bg-zinc-900/40">
      <h2 className="flex items-baseline justify-between border-b border-zinc-800 px-2 py-1.5 text-xs font-semibold text-zinc-200">
        {title} <span className="font-mono text-zinc-400">{lanes.length}</span>
      </h2>
      <div ref={ref} className="h-[70vh] overflow-y-auto p-1.5">
        <div ref={v.containerRef} style={{ height: v.getTotalSize(), position: "relative" }}>
          {v.getVirtualItems().map((item) => {
            const { lane, attention } = lanes[item.index]!;
            return (
              <div
                key={lane.id}
                data-index={item.index}
                ref={v.measureElement}
                data-testid="column-lane"
                data-lane-id={lane.id}
                data-active={lane.id === activeId || undefined}
                className={`absolute inset-x-0 top-0 flex flex-col gap-1 rounded-md border p-2 ${lane.id === activeId ? "border-sky-500" : "border-zinc-800"} bg-zinc-900`}
                style={{ top: item.start }}
              >
                <div className="flex items-center gap-2">
                  <LaneStatusBadge lane={lane} />
                  <span className="ml-auto truncate font-mono text-[11px] text-zinc-400">{lane.engine}</span>
                </div>
                <Link prefetch={false} href={`/lanes/${encodeURIComponent(lane.id)}`} className="line-clamp-2 text-xs text-zinc-100 hover:text-sky-300 hover:underline">
                  {lane.objective}
                </Link>
                <span className="truncate font-mono text-[11px] text-sky-300">{lane.branch}</span>
                {attention && (
                  <div className="flex min-w-0 items-center gap-2">
                    <span className="min-w-0 truncate text-[11px] text-amber-200" title={attention.reason}>{attention.reason}</span>
                    <span className="ml-auto shrink-0"><AttentionActionButton lane={lane} action={attention.action} /></span>
                  </div>
                )}
              </div>
            );
          })}
        </div>
      </div>
    </section>
  );
}

export function ColumnsView({ lanes, activeId }: ViewProps) {
  const groups = groupByColumn(lanes);
  return (
    <div data-testid="board-columns" className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-5">
      {BOARD_COLUMNS.map((c) => (
        <Column key={c} title={BOARD_COLUMN_LABEL[c]} lanes={groups[c]} activeId={activeId} />
      ))}
    </div>
  );
}
