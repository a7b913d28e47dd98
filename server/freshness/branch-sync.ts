/**
 * Bringing a lane's branch up to date with its base, in the lane's own worktree: a merge-forward
 * (merge the base head into the branch, a fast-forward when the branch has no commits of its
 * own) or a rebase onto it. Used by policy (stale before broad checks; green but stale) and by
 * recovery recipes (stale branch, compile red after a refactor on main).
 *
 * Preconditions are checked first and reported as typed problems, leaving the worktree alone:
 * base branch missing, worktree missing / not a worktree / detached / on another branch, an
 * `index.lock` left by a crashed git. A conflict is aborted (the worktree is as before) and
 * reported as `branch.conflict`; the other problems as `branch.problem`. Success is
 * `branch.merged_forward`, followed by a freshness refresh (which emits the new commit).
 */
import type { EventLog } from "../events/event-log";
import { gitProblem, mergeForward, problemFromError, rebaseOnto, resolveCommit, worktreeState, type GitProblem } from "../git/git";
import type { FreshnessTracker } from "./freshness";
import type { LaneRow } from "../records/lane-store";
import type { Db } from "../store/db";

export interface BranchSyncDeps {
  db: Db;
  events: EventLog;
  freshness: FreshnessTracker;
}

export type SyncMethod = "merge" | "rebase";

export type SyncOutcome =
  | { ok: true; head: string; previous: string; baseSha: string; fastForward: boolean }
  | { ok: false; problem: GitProblem; conflicts: string[] };

export class BranchSync {
  /** One sync per lane at a time. */
  readonly #busy = new Map<string, Promise<SyncOutcome>>();

  constructor(private readonly deps: BranchSyncDeps) {}

  /**
   * Merge the base forward into (or rebase) the lane's branch. Never throws.
   * @param by the policy rule id or recovery recipe that asked, recorded in the event.
   */
  sync(lane: LaneRow, method: SyncMethod, by: string): Promise<SyncOutcome> {
    const prev = this.#busy.get(lane.id) ?? Promise.resolve(null);
    const next = prev.then(() => this.#sync(lane, method, by)).catch((err: unknown) => ({ ok: false as const, problem: problemFromError(err, method === "merge" ? "merge-forward" : "rebase"), conflicts: [] }));
    this.#busy.set(lane.id, next);
    return next;
  }

  async #sync(lane: LaneRow, method: SyncMethod, by: string): Promise<SyncOutcome> {
    const repo = await this.deps.db.repo.findUniqueOrThrow({ where: { id: lane.repoId } });
    const operation = method === "merge" ? "merge_forward" : "rebase";
    const fail = async (problem: GitProblem, conflicts: string[] = []): Promise<SyncOutcome> => {
      const base = { laneId: lane.id, repoId: lane.repoId };
      if (problem.problem === "merge_conflict") {
        await this.deps.events.append({ ...base, type: "branch.conflict", payload: { baseBranch: lane.baseBranch, files: conflicts, during: operation, evidence: problem.evidence } });
      } else {
        await this.deps.events.append({ ...base, type: "branch.problem", payload: { ...problem, operation } });
      }
      return { ok: false, problem, conflicts };
    };
    const baseSha = await resolveCommit(repo.path, `refs/heads/${lane.baseBranch}`).catch(() => null);
    if (!baseSha) return fail(gitProblem("base_missing", `base branch '${lane.baseBranch}' does not exist in ${repo.path} (deleted or renamed?)`));
    const wt = await worktreeState(lane.worktreePath);
    if (wt.kind === "missing") return fail(gitProblem("worktree_missing", `the lane's worktree ${lane.worktreePath} is gone (removed by hand?)`));
    if (wt.kind === "not_a_worktree") return fail(gitProblem("not_a_worktree", `${lane.worktreePath} is not a git worktree: ${wt.message}`));
    if (wt.kind === "detached") return fail(gitProblem("detached_head", `the worktree is on a detached HEAD at ${wt.head.slice(0, 12)}, not on '${lane.branch}'; not merging into it`));
    if (wt.branch !== lane.branch) return fail(gitProblem("wrong_branch", `the worktree has '${wt.branch}' checked out, not '${lane.branch}'; not merging into it`));

    const message = `Merge ${lane.baseBranch} into ${lane.branch}\n\nMerged forward by Laneboard (${by}) so the lane's checks run against ${baseSha.slice(0, 12)}.`;
    const res = method === "merge" ? await mergeForward(lane.worktreePath, baseSha, message) : await rebaseOnto(lane.worktreePath, baseSha);
    if (!res.ok) {
      const evidence = res.output.filter((l) => /^CONFLICT|^error|^fatal|Unable to|would be overwritten|unstaged/.test(l));
      const kind = res.kind === "conflict" ? "merge_conflict" : res.kind === "locked" ? "locked" : res.kind === "dirty" ? "dirty_worktree" : "git_failed";
      const what = method === "merge" ? `merging '${lane.baseBranch}' into '${lane.branch}'` : `rebasing '${lane.branch}' onto '${lane.baseBranch}'`;
      return fail(gitProblem(kind, `${what}: ${res.message}`, evidence.length ? evidence : res.output.slice(-4)), res.conflicts);
    }
    await this.deps.events.append({
      type: "branch.merged_forward",
      laneId: lane.id,
      repoId: lane.repoId,
      payload: { method, baseBranch: lane.baseBranch, baseSha, previous: res.previous, head: res.head, fastForward: res.fastForward, by },
    });
    await this.deps.freshness.refresh(lane.id, operation);
    return { ok: true, head: res.head, previous: res.previous, baseSha, fastForward: res.fastForward };
  }
}
