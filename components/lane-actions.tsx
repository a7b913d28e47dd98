"use client";
/**
 * Kill and Restart for one lane. Kill is enabled while the lane can still be killed (queued or
 * live); Restart once it is terminal. Each shows its pending state, and a failure shows the
 * server's message next to the buttons until the next attempt.
 */
import { useMutation, useQueryClient, type QueryClient } from "@tanstack/react-query";
import type { BoardResponse, LaneView } from "@/lib/api";
import { canTransitionLane, TERMINAL_LANE_STATES } from "@/lib/lane-state";
import { api, errorMessage } from "./api-client";
import { laneKeys } from "./query-keys";

const isNewer = (next: LaneView, cur: LaneView | undefined) => !cur || (next.lastEvent?.id ?? 0) >= (cur.lastEvent?.id ?? 0);

/** Put a lane view returned by the server into the caches, unless a live event already made them newer. */
function storeLaneView(qc: QueryClient, view: LaneView): void {
  qc.setQueryData<LaneView>(laneKeys.detail(view.id), (cur) => (isNewer(view, cur) ? view : cur));
  qc.setQueryData<BoardResponse>(laneKeys.board, (board) =>
    board ? { ...board, lanes: board.lanes.map((l) => (l.id === view.id && isNewer(view, l) ? view : l)) } : board,
  );
  void qc.invalidateQueries({ queryKey: laneKeys.board });
}

const BUTTON =
  "inline-flex items-center gap-1 rounded-md px-2.5 py-1 text-xs font-medium ring-1 ring-inset transition-colors disabled:cursor-not-allowed disabled:opacity-40";

export function LaneActions({ lane }: { lane: LaneView }) {
  const qc = useQueryClient();
  const kill = useMutation({ mutationFn: () => api.kill(lane.id), onSuccess: (v) => storeLaneView(qc, v) });
  const restart = useMutation({ mutationFn: () => api.restart(lane.id), onSuccess: (v) => storeLaneView(qc, v) });
  const busy = kill.isPending || restart.isPending;
  const error = kill.error ?? restart.error;
  const name = lane.slug || lane.id;

  return (
    <div className="flex min-w-0 flex-wrap items-center gap-2">
      <button
        type="button"
        data-testid="kill-button"
        aria-label={`Kill lane ${name}`}
        disabled={busy || !canTransitionLane(lane.state, "killed")}
        onClick={() => {
          restart.reset();
          kill.mutate();
        }}
        className={`${BUTTON} bg-red-500/10 text-red-300 ring-red-500/30 enabled:hover:bg-red-500/20`}
      >
        {kill.isPending ? "Killing…" : "Kill"}
      </button>
      <button
        type="button"
        data-testid="restart-button"
        aria-label={`Restart lane ${name}`}
        disabled={busy || !TERMINAL_LANE_STATES.has(lane.state)}
        onClick={() => {
          kill.reset();
          restart.mutate();
        }}
        className={`${BUTTON} bg-zinc-800/60 text-zinc-200 ring-zinc-700 enabled:hover:bg-zinc-700/60`}
      >
        {restart.isPending ? "Restarting…" : "Restart"}
      </button>
      {error && (
        <p role="alert" data-testid="lane-action-error" className="min-w-0 truncate text-xs text-red-300" title={errorMessage(error)}>
          {errorMessage(error)}
        </p>
      )}
    </div>
  );
}
