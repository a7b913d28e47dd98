"use client";
/**
 * The lane board (`/`): what needs a person first, then every lane — filtered, searched, grouped
 * and sorted as the URL says (lib/board-query.ts) — in a virtualized view. The header counts lanes
 * per state (each a filter) and the tab title carries the count of lanes that need a person.
 * Keyboard: `/` focuses search, `j`/`k` move the cursor, `Enter` opens the lane, `x` selects it.
 * While the server is unreachable the board says so and its actions are disabled.
 */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import { BoardResponseSchema } from "@/lib/api";
import { firstScreenCounts, type BoardFirstScreen } from "@/lib/board-first-screen";
import { countLanes, filterLanes, groupByColumn, sortLanes, toBoardLane, BOARD_COLUMNS, type BoardLane } from "@/lib/board-query";
import { sortAttention, type Attention } from "@/lib/lane-attention";
import { api, errorMessage } from "./api-client";
import { AppHeader } from "./app-header";
import { AttentionPanel } from "./attention-panel";
import { BoardCounts } from "./board-counts";
import { BoardToolbar } from "./board-toolbar";
import { CardsView, ColumnsView, TableView } from "./board-views";
import { BulkBar } from "./bulk-bar";
import { takeEarlyBoard } from "./early-board";
import { laneKeys } from "./query-keys";
import { useRealtime, useServerReachable } from "./realtime-context";
import { RegisterRepoForm } from "./register-repo-form";
import { useBoardQuery } from "./use-board-query";

function EmptyBoard() {
  return (
    <div data-testid="board-empty" className="mx-auto mt-16 max-w-md rounded-xl border border-dashed border-zinc-800 p-8 text-center">
      <h2 className="text-sm font-semibold text-zinc-100">No repositories yet</h2>
      <p className="mt-2 text-xs leading-5 text-zinc-300">
        Register a local git repository above by its absolute path, then start lanes on it with New lane. Each lane is one branch and worktree per agent.
      </p>
    </div>
  );
}

/** Tab title: "(3) Laneboard" while three lanes need a person. */
function useTabTitle(needsYou: number): void {
  useEffect(() => {
    document.title = needsYou > 0 ? `(${needsYou}) Laneboard` : "Laneboard";
  }, [needsYou]);
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
}

/** `/`, `j`, `k`, `Enter`, `x` over the lanes in view order (see module docs). */
function useBoardKeys(ordered: BoardLane[], search: React.RefObject<HTMLInputElement | null>, onToggle: (id: string) => void) {
  const router = useRouter();
  const [activeId, setActiveId] = useState<string | null>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === "Escape" && isTyping(e.target)) return (e.target as HTMLElement).blur();
      if (isTyping(e.target)) return;
      if (e.key === "/") {
        e.preventDefault();
        search.current?.focus();
        return;
      }
      if (ordered.length === 0) return;
      const i = activeId ? ordered.findIndex((l) => l.lane.id === activeId) : -1;
      if (e.key === "j" || e.key === "k") {
        const next = e.key === "j" ? Math.min(ordered.length - 1, i + 1) : Math.max(0, i < 0 ? 0 : i - 1);
        setActiveId(ordered[next]!.lane.id);
      } else if (e.key === "Enter" && i >= 0 && (e.target === document.body || e.target === null)) {
        router.push(`/lanes/${encodeURIComponent(ordered[i]!.lane.id)}`);
      } else if (e.key === "x" && i >= 0) {
        onToggle(ordered[i]!.lane.id);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [ordered, activeId, router, search, onToggle]);
  return activeId;
}

/**
 * @param firstScreen what the server rendered the page with (lib/board-first-screen.ts): shown
 *   until the whole board document has arrived, so the first paint and hydration need no fetch.
 */
export function Board({ firstScreen = null }: { firstScreen?: BoardFirstScreen | null }) {
  const realtime = useRealtime();
  const reachable = useServerReachable();
  const [query, setQuery] = useBoardQuery();
  const searchRef = useRef<HTMLInputElement>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const board = useQuery({
    queryKey: laneKeys.board,
    queryFn: async () => {
      const early = await takeEarlyBoard();
      const parsed = early === null ? null : BoardResponseSchema.safeParse(early);
      return realtime.noteSnapshot(parsed?.success ? parsed.data : await api.board());
    },
    // Live events patch the cached board immutably (components/lane-patch.ts: a changed lane is a
    // new object, the others keep theirs), so React Query's deep compare of the old and new board
    // at every event (all lanes walked, the changed one compared field by field) finds nothing.
    structuralSharing: false,
  });
  // Live events change the board many times a second; the views of a thousand lanes are derived
  // and rendered from a deferred copy, which React renders in slices it can interrupt (input
  // first), instead of one long task per event.
  const data = useDeferredValue(board.data);
  // Until the board document is here, the server's first screen stands in for it.
  const first = data ? null : firstScreen;
  const repos = data?.repos ?? first?.repos ?? null;

  const all = useMemo(() => (data?.lanes ?? []).map(toBoardLane), [data]);
  const counts = useMemo(() => (first ? firstScreenCounts(first) : countLanes(all)), [first, all]);
  const attention = useMemo(
    () => (first ? first.attentionLanes.map(toBoardLane) : all).filter((l): l is BoardLane & { attention: Attention } => l.attention !== null),
    [first, all],
  );
  const sortedAttention = useMemo(() => (first ? attention : sortAttention(attention)), [first, attention]);
  const shown = useMemo(() => (first ? first.viewLanes.map(toBoardLane) : sortLanes(filterLanes(all, query), query.sort)), [first, all, query]);
  const total = first?.total ?? all.length;
  // Keyboard order follows what is on screen: column by column in the columns view.
  const ordered = useMemo(() => (query.view === "columns" ? BOARD_COLUMNS.flatMap((c) => groupByColumn(shown)[c]) : shown), [shown, query.view]);
  const onSelect = useCallback((id: string, on: boolean) => setSelected((s) => (on === s.has(id) ? s : on ? new Set(s).add(id) : new Set([...s].filter((x) => x !== id)))), []);
  const onToggle = useCallback((id: string) => setSelected((s) => (s.has(id) ? new Set([...s].filter((x) => x !== id)) : new Set(s).add(id))), []);
  const activeId = useBoardKeys(ordered, searchRef, onToggle);
  const selectedLanes = useMemo(() => all.filter((l) => selected.has(l.lane.id)).map((l) => l.lane), [all, selected]);
  useTabTitle(counts.needsYou);

  const View = query.view === "table" ? TableView : query.view === "columns" ? ColumnsView : CardsView;
  return (
    <>
      <AppHeader wrapping>{repos && <BoardCounts byState={counts.byState} needsYou={counts.needsYou} query={query} onChange={setQuery} />}</AppHeader>
      <main className="mx-auto flex max-w-[1800px] flex-col gap-4 px-3 py-4 sm:px-4">
        {!reachable && (
          <div role="alert" data-testid="server-unreachable" className="rounded-lg border border-red-500/50 bg-red-500/15 px-4 py-3 text-sm text-red-100">
            The Laneboard server cannot be reached. What you see may be out of date, and actions are disabled until it is back.
          </div>
        )}
        <div className="flex flex-wrap items-start justify-between gap-3">
          <div>
            <h1 className="text-base font-semibold text-zinc-100">Lanes</h1>
            <p className="text-xs text-zinc-300">Every agent on its own branch and worktree. Live.</p>
          </div>
          <div className="flex min-w-0 max-w-full flex-wrap items-center gap-2">
            <Link href="/lanes/new" data-testid="new-lane" className="inline-flex h-8 items-center rounded-md bg-sky-600 px-3 text-xs font-medium text-white hover:bg-sky-500">
              New lane
            </Link>
            <div className="min-w-0 max-w-full">
              <RegisterRepoForm />
            </div>
          </div>
        </div>

        {board.isError && (
          <div role="alert" data-testid="board-error" className="rounded-lg border border-red-500/30 bg-red-500/10 px-4 py-3 text-sm text-red-200">
            <p>Could not load the board: {errorMessage(board.error)}</p>
            <button type="button" onClick={() => void board.refetch()} className="mt-2 text-xs text-red-100 underline hover:no-underline">
              Try again
            </button>
          </div>
        )}
        {board.isPending && !first && (
          <p role="status" className="text-xs text-zinc-300">
            Loading board…
          </p>
        )}
        {repos &&
          (repos.length === 0 && total === 0 ? (
            <EmptyBoard />
          ) : (
            <>
              <AttentionPanel items={sortedAttention} total={counts.needsYou} onShowAll={() => setQuery({ needs: ["any"] })} />
              <BoardToolbar ref={searchRef} query={query} onChange={setQuery} repos={repos} shown={first?.shown ?? shown.length} total={total} />
              <BulkBar lanes={selectedLanes} onClear={() => setSelected(new Set())} />
              {first && query.view === "columns" ? (
                <p role="status" className="text-xs text-zinc-300">
                  Loading lanes…
                </p>
              ) : shown.length === 0 ? (
                <p data-testid="board-no-match" className="rounded-lg border border-dashed border-zinc-800 px-4 py-6 text-center text-xs text-zinc-300">
                  No lane matches these filters.
                </p>
              ) : (
                <View lanes={ordered} selected={selected} onSelect={onSelect} activeId={activeId} />
              )}
            </>
          ))}
      </main>
    </>
  );
}
