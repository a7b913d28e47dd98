"use client";
/**
 * Bulk actions on the selected lanes: Kill (asks for confirmation, then kills those that can be
 * killed), Restart (those that have ended), and clear the selection. Lanes are acted on a few at
 * a time; the outcome says how many succeeded and the first failure's reason. It stays in view
 * while the board scrolls: under the header on a wide screen, at the bottom edge on a narrower
 * one (where the header's height depends on how its counts wrap: components/app-header.tsx).
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { LaneView } from "@/lib/api";
import { canTransitionLane, TERMINAL_LANE_STATES } from "@/lib/lane-state";
import { api, errorMessage } from "./api-client";
import { ACTION_BUTTON } from "./lane-actions";
import { laneKeys } from "./query-keys";
import { useServerReachable } from "./realtime-context";

/** Requests in flight at once: enough to be quick, few enough not to flood a busy server. */
const CONCURRENCY = 4;

async function forEachLimited(ids: string[], fn: (id: string) => Promise<unknown>): Promise<{ ok: number; failed: { id: string; message: string }[] }> {
  let next = 0;
  let ok = 0;
  const failed: { id: string; message: string }[] = [];
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        await fn(id);
        ok++;
      } catch (err) {
        failed.push({ id, message: errorMessage(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
  return { ok, failed };
}

export function BulkBar({ lanes, onClear }: { lanes: LaneView[]; onClear: () => void }) {
  const qc = useQueryClient();
  const reachable = useServerReachable();
  const [confirmKill, setConfirmKill] = useState(false);
  const killable = lanes.filter((l) => canTransitionLane(l.state, "killed"));
  const restartable = lanes.filter((l) => TERMINAL_LANE_STATES.has(l.state));
  const run = useMutation({
    mutationFn: async ({ verb, ids }: { verb: "kill" | "restart"; ids: string[] }) => {
      const res = await forEachLimited(ids, (id) => (verb === "kill" ? api.kill(id) : api.restart(id)));
      void qc.invalidateQueries({ queryKey: laneKeys.board });
      return { verb, ...res };
    },
  });
  if (lanes.length === 0) return null;
  const outcome = run.data;
  return (
    <div role="region" aria-label="Bulk actions" data-testid="bulk-bar" className="sticky top-12 z-10 max-lg:fixed max-lg:inset-x-2 max-lg:bottom-2 max-lg:top-auto max-lg:z-30 flex flex-wrap items-center gap-2 rounded-lg border border-sky-700 bg-zinc-900 px-3 py-2 text-xs text-zinc-200">
      <span data-testid="bulk-count">{lanes.length} selected</span>
      {confirmKill ? (
        <>
          <button
            type="button"
            data-testid="bulk-kill-confirm"
            disabled={!reachable || run.isPending}
            onClick={() => {
              setConfirmKill(false);
              run.mutate({ verb: "kill", ids: killable.map((l) => l.id) });
            }}
            className={`${ACTION_BUTTON} bg-red-600 text-white ring-red-500`}
          >
            Confirm: kill {killable.length}
          </button>
          <button type="button" onClick={() => setConfirmKill(false)} className={`${ACTION_BUTTON} bg-zinc-800 text-zinc-100 ring-zinc-600`}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" data-testid="bulk-kill" disabled={!reachable || run.isPending || killable.length === 0} onClick={() => setConfirmKill(true)} className={`${ACTION_BUTTON} bg-red-500/10 text-red-200 ring-red-500/40 enabled:hover:bg-red-500/20`}>
          Kill {killable.length}
        </button>
      )}
      <button
        type="button"
        data-testid="bulk-restart"
        disabled={!reachable || run.isPending || restartable.length === 0}
        onClick={() => run.mutate({ verb: "restart", ids: restartable.map((l) => l.id) })}
        className={`${ACTION_BUTTON} bg-zinc-800 text-zinc-100 ring-zinc-600 enabled:hover:bg-zinc-700`}
      >
        Restart {restartable.length}
      </button>
      <button type="button" data-testid="bulk-clear" onClick={onClear} className="text-sky-300 underline hover:no-underline">
        Clear selection
      </button>
      {run.isPending && <span role="status">Working…</span>}
      {outcome && !run.isPending && (
        <span role="status" data-testid="bulk-outcome" className={outcome.failed.length ? "text-red-300" : "text-emerald-300"}>
          {outcome.verb === "kill" ? "Killed" : "Restarted"} {outcome.ok}
          {outcome.failed.length > 0 && `; ${outcome.failed.length} failed: ${outcome.failed[0]!.message}`}
        </span>
      )}
    </div>
  );
}
