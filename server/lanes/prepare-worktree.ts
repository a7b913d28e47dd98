/**
 * A lane that depends on other lanes gets its worktree when it is created, but starts only once
 * they have succeeded, maybe hours later. So, as its worker first starts, its branch is brought up
 * to date: it starts from its base branch **as it is at start time**, plus **the artifacts it
 * depends on**: the branches of its dependency lanes that finished (`wait_all`: all of them;
 * `wait_any`: those that finished by then), merged in as committed. Uncommitted changes of a
 * dependency are not artifacts; a dependency whose branch no longer exists (merged and
 * cleaned up) is skipped, since its commits are in the base already.
 *
 * Steps, in the lane's worktree (each a real `git merge`, Laneboard's identity, `--end-of-options`
 * before the SHA): merge the base head (a fast-forward while the branch has no commit of its
 * own), then each dependency's head, in `dependsOn` order (fast-forward when possible, else a merge
 * commit). A conflict aborts that merge, leaves the worktree as before it, and fails the start
 * (`branch_divergence`, `branch.conflict`). On success the lane's `baseSha` becomes the base head
 * used, and `lane.worktree_prepared` records it, what was merged, and the head the worker starts
 * from (the lane's start point, server/events/start-point.ts).
 *
 * Done once: before the lane's first worker ran (no `lane.started` yet). A restart keeps the
 * lane's own work and is not re-prepared.
 */
import type { FailureClass } from "@/lib/lane-state";
import type { EventLog } from "../events/event-log";
import { mergeForward, resolveCommit } from "../git/git";
import type { Db } from "../store/db";
import type { LaneRow } from "../records/lane-store";

export type PrepareResult =
  | { ok: true; prepared: boolean }
  | { ok: false; failureClass: FailureClass; reason: string; failureReason: string; evidence: string[] };

export interface PrepareDeps {
  db: Db;
  events: EventLog;
}

/**
 * Prepare `lane` (just moved to `starting`) if it depends on other lanes and never ran.
 * @returns `prepared: false` when there was nothing to do; a failure to fail the start with.
 */
export async function prepareDependentWorktree(deps: PrepareDeps, lane: LaneRow): Promise<PrepareResult> {
  const dependsOn = JSON.parse(lane.dependsOn) as string[];
  if (dependsOn.length === 0) return { ok: true, prepared: false };
  const ran = await deps.db.laneEvent.findFirst({ where: { laneId: lane.id, type: { in: ["lane.started", "lane.worktree_prepared"] } }, select: { id: true } });
  if (ran) return { ok: true, prepared: false };
  const repo = await deps.db.repo.findUniqueOrThrow({ where: { id: lane.repoId } });
  const baseHead = await resolveCommit(repo.path, `refs/heads/${lane.baseBranch}`).catch(() => null);
  if (!baseHead) return fail("infra", "base_missing", `base branch '${lane.baseBranch}' does not exist in ${repo.path} (deleted or renamed?)`, []);

  const rows = await deps.db.lane.findMany({ where: { id: { in: dependsOn } }, select: { id: true, branch: true, state: true } });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const sources: { laneId: string; branch: string; sha: string }[] = [];
  for (const id of dependsOn) {
    const dep = byId.get(id);
    if (dep?.state !== "finished") continue;
    const sha = await resolveCommit(repo.path, `refs/heads/${dep.branch}`).catch(() => null);
    if (sha) sources.push({ laneId: dep.id, branch: dep.branch, sha });
  }

  const steps = [{ sha: baseHead, message: `Merge ${lane.baseBranch} into ${lane.branch}\n\nBrought up to date by Laneboard as the lane started (its dependencies had finished).` }];
  for (const s of sources) steps.push({ sha: s.sha, message: `Merge dependency lane ${s.branch} into ${lane.branch}\n\nMerged by Laneboard as the lane started: lane ${lane.id} depends on lane ${s.laneId}.` });
  let head = lane.baseSha ?? baseHead;
  for (const step of steps) {
    const res = await mergeForward(lane.worktreePath, step.sha, step.message);
    if (!res.ok) {
      const what = step.sha === baseHead ? `'${lane.baseBranch}'` : `dependency branch '${sources.find((s) => s.sha === step.sha)?.branch}'`;
      if (res.kind === "conflict") {
        await deps.events.append({ type: "branch.conflict", laneId: lane.id, repoId: lane.repoId, payload: { baseBranch: lane.baseBranch, files: res.conflicts, during: "dependency_merge", evidence: res.output.slice(-8) } });
      }
      return fail(res.kind === "conflict" ? "branch_divergence" : "infra", res.kind === "conflict" ? "merge_conflict" : "git_failed", `preparing the worktree: merging ${what} into '${lane.branch}' failed: ${res.message}`, res.output.slice(-8));
    }
    head = res.head;
  }
  await deps.db.lane.update({ where: { id: lane.id }, data: { baseSha: baseHead } });
  await deps.events.append({
    type: "lane.worktree_prepared",
    laneId: lane.id,
    repoId: lane.repoId,
    payload: { baseBranch: lane.baseBranch, baseSha: baseHead, previousBaseSha: lane.baseSha, head, merged: sources },
  });
  return { ok: true, prepared: true };
}

function fail(failureClass: FailureClass, failureReason: string, reason: string, evidence: string[]): PrepareResult {
  return { ok: false, failureClass, reason, failureReason, evidence };
}
