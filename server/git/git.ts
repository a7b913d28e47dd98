/**
 * Laneboard's git layer, one import for callers: the runner ({@link git}), repository questions
 * (./repo.ts) and lane worktrees (./worktree.ts). Every call uses execa with an argument array;
 * user-supplied refs follow `--end-of-options`, paths follow `--`.
 */
export { git, gitEnv, GIT_TIMEOUT_MS, type GitOptions, type GitResult } from "./runner";
export {
  inspectRepo,
  assertValidBranchName,
  branchExists,
  resolveCommit,
  headSha,
  aheadBehind,
  commitsBetween,
  MAIN_BRANCH_CANDIDATES,
  type RepoInfo,
} from "./repo";
export { createWorktree, removeWorktree, type CreateWorktreeInput } from "./worktree";
