"use client";
/**
 * Kill and Restart for one lane. Kill asks for confirmation first (a second click on "Confirm
 * kill" within a few seconds), because it stops the lane's whole process group. Kill is enabled
 * while the lane can still be killed (queued or live); Restart once it is terminal. Both are
 * disabled while the server is unreachable. A failure shows the server's message.
 */
import { useMutation, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { BoardResponse, LaneView } from "@/lib/api";
import { canTransitionLane, TERMINAL_LANE_STATES } from "@/lib/lane-state";
import { api, errorMessage } from "./api-client";
import { isNewerView, mergeLanes } from "./lane-patch";
import { laneKeys } from "./query-keys";
import { useServerReachable } from "./realtime-context";

/** Put a lane view returned by the server into the caches, unless a live event already made them newer. */
export function storeLaneView(qc: QueryClient, view: LaneView): void {
  qc.setQueryData<LaneView>(laneKeys.detail(view.id), (cur) => (isNewerView(view, cur) ? view : cur));
  qc.setQueryData<BoardResponse>(laneKeys.board, (board) => (board ? mergeLanes(board, [view]) : board));
  void qc.invalidateQueries({ queryKey: laneKeys.board });
}

export const ACTION_BUTTON =
  "inline-flex items-center gap-1 rounded-md px-2.5 py-1 text-xs font-medium ring-1 ring-inset transition-colors disabled:cursor-not-allowed disabled:opacity-40";

/** How long "Confirm kill" stays armed, in ms. */
const CONFIRM_WINDOW_MS = 5000;

export function LaneActions({ lane }: { lane: LaneView }) {
  const qc = useQueryClient();
  const reachable = useServerReachable();
  const [armed, setArmed] = useState(false);
  const kill = useMutation({ mutationFn: () => api.kill(lane.id), onSuccess: (v) => storeLaneView(qc, v) });
  const restart = useMutation({ mutationFn: () => api.restart(lane.id), onSuccess: (v) => storeLaneView(qc, v) });
  useEffect(() => {
    if (!armed) return;
    const t = setTimeout(() => setArmed(false), CONFIRM_WINDOW_MS);
    return () => clearTimeout(t);
  }, [armed]);
  const busy = kill.isPending || restart.isPending || !reachable;
  const error = kill.error ?? restart.error;
  const name = lane.slug || lane.id;
  const canKill = canTransitionLane(lane.state, "killed");

  return (
    <div className="flex min-w-0 flex-wrap items-center gap-2">
      <button
        type="button"
        data-testid={armed ? "kill-confirm" : "kill-button"}
        aria-label={armed ? `Confirm: kill lane ${name}` : `Kill lane ${name}`}
        disabled={busy || !canKill}
        onClick={() => {
          if (!armed) return setArmed(true);
          setArmed(false);
          restart.reset();
          kill.mutate();
        }}
        className={`${ACTION_BUTTON} ${armed ? "bg-red-600 text-white ring-red-500" : "bg-red-500/10 text-red-300 ring-red-500/30 enabled:hover:bg-red-500/20"}`}
      >
        {kill.isPending ? "Killing…" : armed ? "Confirm kill" : "Kill"}
      </button>
      {armed && (
        <button type="button" data-testid="kill-cancel" onClick={() => setArmed(false)} className={`${ACTION_BUTTON} bg-zinc-800/60 text-zinc-200 ring-zinc-700`}>
          Cancel
        </button>
      )}
      {!armed && (
        <button
          type="button"
          data-testid="restart-button"
          aria-label={`Restart lane ${name}`}
          disabled={busy || !TERMINAL_LANE_STATES.has(lane.state)}
          onClick={() => {
            kill.reset();
            restart.mutate();
          }}
          className={`${ACTION_BUTTON} bg-zinc-800/60 text-zinc-200 ring-zinc-700 enabled:hover:bg-zinc-700/60`}
        >
          {restart.isPending ? "Restarting…" : "Restart"}
        </button>
      )}
      {error && (
        <p role="alert" data-testid="lane-action-error" className="min-w-0 truncate text-xs text-red-300" title={errorMessage(error)}>
          {errorMessage(error)}
        </p>
      )}
    </div>
  );
}
