"use client";
/**
 * The lane board (`/`): every registered repo with its lanes as cards, a lane-state summary,
 * the register-repo form, and the states between (loading, error, empty).
 */
import { useQuery } from "@tanstack/react-query";
import type { BoardResponse, LaneView, RepoView } from "@/lib/api";
import { LANE_STATES } from "@/lib/lane-state";
import { api, errorMessage } from "./api-client";
import { AppHeader } from "./app-header";
import { LaneCard } from "./lane-card";
import { laneKeys } from "./query-keys";
import { useRealtime } from "./realtime-context";
import { RegisterRepoForm } from "./register-repo-form";

const SUMMARY_COLOR: Record<string, string> = {
  running: "text-blue-300",
  checking: "text-amber-300",
  queued: "text-zinc-300",
  failed: "text-red-300",
  finished: "text-emerald-300",
};

function Summary({ lanes }: { lanes: LaneView[] }) {
  const counts = LANE_STATES.map((s) => [s, lanes.filter((l) => l.state === s).length] as const).filter(([, n]) => n > 0);
  if (counts.length === 0) return null;
  return (
    <ul aria-label="Lanes by state" className="hidden items-center gap-3 text-xs text-zinc-400 md:flex">
      {counts.map(([state, n]) => (
        <li key={state}>
          <span className={`font-mono font-semibold ${SUMMARY_COLOR[state] ?? "text-zinc-300"}`}>{n}</span> {state}
        </li>
      ))}
    </ul>
  );
}

function RepoSection({ repo, lanes }: { repo: RepoView; lanes: LaneView[] }) {
  const headingId = `repo-${repo.id}`;
  return (
    <section aria-labelledby={headingId} data-testid="repo-section" data-repo-id={repo.id} className="flex flex-col gap-3">
      <div className="flex min-w-0 flex-wrap items-baseline gap-x-3 gap-y-1 border-b border-zinc-800/70 pb-2">
        <h2 id={headingId} className="text-sm font-semibold text-zinc-100">
          {repo.name}
        </h2>
        <span className="min-w-0 truncate font-mono text-xs text-zinc-500" title={repo.path}>
          {repo.path}
        </span>
        <span className="rounded bg-zinc-800/80 px-1.5 py-0.5 font-mono text-[11px] text-zinc-300" title="Main branch">
          ⎇ {repo.mainBranch}
        </span>
        <span className="ml-auto text-xs text-zinc-500">
          {lanes.length} lane{lanes.length === 1 ? "" : "s"}
        </span>
      </div>
      {lanes.length === 0 ? (
        <p className="rounded-lg border border-dashed border-zinc-800 px-4 py-6 text-center text-xs text-zinc-500">
          No lanes on this repo yet. Create one with <code className="font-mono text-zinc-400">POST /api/v1/lanes</code>.
        </p>
      ) : (
        <div className="grid grid-cols-[repeat(auto-fill,minmax(min(100%,330px),1fr))] gap-3">
          {lanes.map((lane) => (
            <LaneCard key={lane.id} lane={lane} />
          ))}
        </div>
      )}
    </section>
  );
}

function EmptyBoard() {
  return (
    <div data-testid="board-empty" className="mx-auto mt-16 max-w-md rounded-xl border border-dashed border-zinc-800 p-8 text-center">
      <h2 className="text-sm font-semibold text-zinc-100">No repositories yet</h2>
      <p className="mt-2 text-xs leading-5 text-zinc-400">
        Register a local git repository above by its absolute path. Its lanes (one branch and worktree per agent) will
        appear here live.
      </p>
    </div>
  );
}

/** Lanes grouped by repo, in the server's order; lanes of an unknown repo are kept, not hidden. */
function groupByRepo(board: BoardResponse): { repo: RepoView; lanes: LaneView[] }[] {
  const groups = new Map(board.repos.map((repo) => [repo.id, { repo, lanes: [] as LaneView[] }]));
  for (const lane of board.lanes) {
    let g = groups.get(lane.repoId);
    if (!g) {
      g = { repo: { id: lane.repoId, name: "(unknown repo)", path: lane.repoId, mainBranch: lane.baseBranch, createdAt: lane.createdAt }, lanes: [] };
      groups.set(lane.repoId, g);
    }
    g.lanes.push(lane);
  }
  return [...groups.values()];
}

export function Board() {
  const realtime = useRealtime();
  const board = useQuery({
    queryKey: laneKeys.board,
    queryFn: async () => {
      const snapshot = await api.board();
      realtime.noteSnapshot(snapshot.cursor);
      return snapshot;
    },
  });

  return (
    <>
      <AppHeader>{board.data && <Summary lanes={board.data.lanes} />}</AppHeader>
      <main className="mx-auto flex max-w-[1800px] flex-col gap-6 px-4 py-4">
        <div className="flex flex-wrap items-start justify-between gap-3">
          <div>
            <h1 className="text-base font-semibold text-zinc-100">Lanes</h1>
            <p className="text-xs text-zinc-500">Every agent on its own branch and worktree. Live.</p>
          </div>
          <RegisterRepoForm />
        </div>

        {board.isError && (
          <div role="alert" data-testid="board-error" className="rounded-lg border border-red-500/30 bg-red-500/10 px-4 py-3 text-sm text-red-200">
            <p>Could not load the board: {errorMessage(board.error)}</p>
            <button type="button" onClick={() => void board.refetch()} className="mt-2 text-xs text-red-100 underline hover:no-underline">
              Try again
            </button>
          </div>
        )}

        {board.isPending && (
          <p role="status" className="text-xs text-zinc-500">
            Loading board…
          </p>
        )}

        {board.data && (board.data.repos.length === 0 && board.data.lanes.length === 0 ? <EmptyBoard /> : groupByRepo(board.data).map((g) => <RepoSection key={g.repo.id} {...g} />))}
      </main>
    </>
  );
}
