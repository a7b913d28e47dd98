/** Which git problem, if any, a lane's branch heads and worktree state amount to. */
import { gitProblem, type GitProblem, type WorktreeState } from "../git/git";
import type { LaneWithRepo } from "./lane-reads";

/**
 * The lane's problem, the first that applies: its base branch or its own branch gone, its worktree
 * missing or not a worktree, a detached HEAD, another branch checked out. Null when none does.
 * `baseHead`/`head`: the branches' commits, null when the branch does not exist.
 */
export function problemOf(lane: LaneWithRepo, baseHead: string | null, head: string | null, wt: WorktreeState): GitProblem | null {
  if (!baseHead) return gitProblem("base_missing", `base branch '${lane.baseBranch}' does not exist in ${lane.repo.path} (deleted or renamed?)`);
  if (!head) return gitProblem("branch_missing", `the lane's branch '${lane.branch}' does not exist in ${lane.repo.path}`);
  if (wt.kind === "missing") return gitProblem("worktree_missing", `the lane's worktree ${lane.worktreePath} is gone (removed by hand?)`);
  if (wt.kind === "not_a_worktree") return gitProblem("not_a_worktree", `${lane.worktreePath} is not a git worktree: ${wt.message}`);
  if (wt.kind === "detached") return gitProblem("detached_head", `the worktree is on a detached HEAD at ${wt.head.slice(0, 12)}, not on '${lane.branch}'`);
  if (wt.branch !== lane.branch) return gitProblem("wrong_branch", `the worktree has '${wt.branch}' checked out, not '${lane.branch}'`);
  return null;
}
