/**
 * Laneboard's git layer, one import for callers: the runner ({@link git}), repository questions
 * (./repo.ts) and lane worktrees (./worktree.ts). Every call uses execa with an argument array;
 * user-supplied refs follow `--end-of-options`, paths follow `--`.
 */
export { git, gitEnv, GIT_TIMEOUT_MS, GitFailure, type GitOptions, type GitResult } from "./runner";
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
export { addWorktree, checkoutWorktree, createBranch, createWorktree, removeWorktree, type CreateWorktreeInput } from "./worktree";
export { gitCommonDir, listBranchHeads, isAncestor, mergeBase, worktreeState, listWorktrees, type WorktreeState, type WorktreeEntry } from "./refs";
export { commitInfo, changedFiles, commitsExcluding, patchIds, newCommitsSince, missingCommits, MAX_FILES, type CommitInfo, type NewCommit } from "./commits";
export {
  mergeTree,
  mergeForward,
  rebaseOnto,
  integrateIntoBase,
  LANEBOARD_IDENTITY,
  type MergeTreeResult,
  type SyncResult,
  type SyncFailureKind,
  type IntegrateStrategy,
  type IntegrateInput,
  type IntegrateResult,
} from "./merge";
export { RefWatcher, type RefWatcherOptions } from "./ref-watcher";
export { gitProblem, problemFromError, GIT_PROBLEMS, GIT_PROBLEM_CLASS, type GitProblem, type GitProblemKind } from "./problems";
