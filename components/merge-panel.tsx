"use client";
/**
 * Merge readiness and the Merge button. Readiness is computed by the server on request
 * (`GET …/merge`: green at the required level, not behind the base, no conflict); each blocker is
 * said in words. Merge lands the lane without removing anything; once merged, cleanup (remove the
 * worktree and delete the branch) is offered as a separate step. A refused merge shows why.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { LaneView } from "@/lib/api";
import { MERGE_BLOCKER_WORDS } from "@/lib/event-sentence";
import { api, errorMessage } from "./api-client";
import { laneKeys } from "./query-keys";
import { SectionHeading } from "./section-heading";

const BTN = "rounded-md px-3 py-1.5 text-xs font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400 disabled:cursor-not-allowed disabled:opacity-40";

export function MergePanel({ lane }: { lane: LaneView }) {
  const qc = useQueryClient();
  // Recomputed whenever the lane changes (its last event id is part of the key's freshness).
  const readiness = useQuery({ queryKey: [...laneKeys.merge(lane.id), lane.lastEvent?.id ?? 0], queryFn: () => api.mergeReadiness(lane.id), staleTime: 5_000 });
  const refresh = () => void qc.invalidateQueries({ queryKey: laneKeys.all });
  const merge = useMutation({
    mutationFn: () => api.merge(lane.id),
    // The page says "merged" everywhere at once (status, next step), not after the refetch.
    onSuccess: () => qc.setQueryData<LaneView>(laneKeys.detail(lane.id), (l) => (l ? { ...l, merged: true } : l)),
    onSettled: refresh,
  });
  const cleanup = useMutation({ mutationFn: () => api.cleanup(lane.id), onSettled: refresh });
  const r = readiness.data;
  const merged = lane.merged || r?.merged || merge.isSuccess;
  const cleanedUp = cleanup.isSuccess;

  return (
    <section aria-labelledby="merge-heading" className="rounded-lg border border-zinc-800 bg-zinc-900/50 p-3" data-testid="merge-panel" data-ready={r?.ready ?? ""} data-merged={merged}>
      <div className="flex flex-wrap items-center gap-3">
        <SectionHeading id="merge-heading">Merge into <span className="font-mono">{lane.baseBranch}</span></SectionHeading>
        {readiness.isPending && !merged && <span className="text-xs text-zinc-400">checking readiness…</span>}
        {r && !merged && (
          <span data-testid="merge-readiness" className={`text-xs ${r.ready ? "text-emerald-300" : "text-amber-300"}`}>
            {r.ready ? `Ready${r.fastForward ? " (fast-forward)" : ""}: green at ${r.level}, up to date, no conflict` : "Not ready"}
          </span>
        )}
        {merged && (
          <span data-testid="merge-done" className="text-xs text-violet-200">
            Merged{merge.data ? ` as ${merge.data.sha.slice(0, 8)} (${merge.data.strategy})` : ""}.
          </span>
        )}
        <div className="ml-auto flex flex-wrap gap-2">
          {!merged && (
            <button type="button" data-testid="merge-button" disabled={!r?.ready || merge.isPending} onClick={() => merge.mutate()} className={`${BTN} bg-emerald-600 text-white enabled:hover:bg-emerald-500`}>
              {merge.isPending ? "Merging…" : "Merge"}
            </button>
          )}
          {merged && !cleanedUp && (
            <button type="button" data-testid="cleanup-button" disabled={cleanup.isPending} onClick={() => cleanup.mutate()} className={`${BTN} bg-zinc-700 text-zinc-50 enabled:hover:bg-zinc-600`}>
              {cleanup.isPending ? "Cleaning up…" : "Clean up: remove worktree and branch"}
            </button>
          )}
        </div>
      </div>
      {r && !r.ready && !merged && r.reasons.length > 0 && (
        <ul className="mt-2 flex flex-col gap-0.5 text-xs text-amber-200" data-testid="merge-blockers">
          {r.reasons.map((reason) => (
            <li key={reason} data-reason={reason}>
              • {MERGE_BLOCKER_WORDS[reason]}
              {reason === "not_green" && ` (needs ${r.level}; green so far: ${r.green.length ? r.green.join(", ") : "none"})`}
              {reason === "stale" && r.behind !== null && ` (${r.behind} commit${r.behind === 1 ? "" : "s"} behind)`}
              {reason === "conflict" && r.conflicts.length > 0 && `: ${r.conflicts.join(", ")}`}
            </li>
          ))}
        </ul>
      )}
      {cleanedUp && (
        <p className="mt-2 text-xs text-zinc-300" data-testid="cleanup-done">
          Worktree removed and branch deleted.
        </p>
      )}
      {(merge.error ?? cleanup.error ?? readiness.error) && (
        <p role="alert" className="mt-2 text-xs text-red-300" data-testid="merge-error">
          {errorMessage(merge.error ?? cleanup.error ?? readiness.error)}
        </p>
      )}
    </section>
  );
}
