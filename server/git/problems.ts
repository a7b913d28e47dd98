/**
 * Git trouble as data: the things that go wrong around a lane's branch and worktree outside the
 * lane's own code (its base branch deleted or renamed, the worktree removed by hand or left on a
 * detached HEAD, a `.lock` file left by a crashed git, a timeout), each with the failure class of
 * the taxonomy (lib/lane-state.ts) it is reported under. Pure.
 */
import { isAppError } from "@/lib/errors";
import type { FailureClass } from "@/lib/lane-state";

export const GIT_PROBLEMS = [
  "base_missing",
  "branch_missing",
  "worktree_missing",
  "not_a_worktree",
  "detached_head",
  "wrong_branch",
  "dirty_worktree",
  "locked",
  "merge_conflict",
  "timeout",
  "git_failed",
] as const;
export type GitProblemKind = (typeof GIT_PROBLEMS)[number];

/**
 * The class each problem is reported under. The worktree or repository not being what the lane
 * expects is `workspace_mismatch`; a conflict with the base is `branch_divergence`; a lock, a
 * timeout or git failing is `infra`.
 */
export const GIT_PROBLEM_CLASS: Readonly<Record<GitProblemKind, FailureClass>> = {
  base_missing: "workspace_mismatch",
  branch_missing: "workspace_mismatch",
  worktree_missing: "workspace_mismatch",
  not_a_worktree: "workspace_mismatch",
  detached_head: "workspace_mismatch",
  wrong_branch: "workspace_mismatch",
  dirty_worktree: "workspace_mismatch",
  locked: "infra",
  merge_conflict: "branch_divergence",
  timeout: "infra",
  git_failed: "infra",
};

export interface GitProblem {
  problem: GitProblemKind;
  failureClass: FailureClass;
  message: string;
  /** Git's lines that show it (at most 8). */
  evidence: string[];
}

export function gitProblem(problem: GitProblemKind, message: string, evidence: readonly string[] = []): GitProblem {
  return { problem, failureClass: GIT_PROBLEM_CLASS[problem], message, evidence: evidence.slice(0, 8) };
}

/**
 * Turn an error thrown by the git layer into a problem: a timeout (`unavailable` … "timed out"),
 * a lock file, a missing ref (`not_found`), else `git_failed`.
 */
export function problemFromError(err: unknown, what: string): GitProblem {
  const message = err instanceof Error ? err.message : String(err);
  const stderr = isAppError(err) && typeof err.details?.stderr === "string" ? (err.details.stderr as string) : "";
  const evidence = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  if (/Unable to create '[^']+\.lock': File exists/.test(`${message}\n${stderr}`) || (isAppError(err) && err.details?.kind === "locked")) {
    return gitProblem("locked", `${what}: a git lock file is in the way (${message})`, evidence);
  }
  if (isAppError(err) && err.code === "unavailable" && /timed out/.test(message)) return gitProblem("timeout", `${what}: ${message}`, evidence);
  return gitProblem("git_failed", `${what}: ${message}`, evidence);
}
