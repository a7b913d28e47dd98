/**
 * Lane worktrees: one new branch per lane (`git branch --no-track -- <branch> <base>^{commit}`),
 * checked out in its own directory (`git worktree add -- <path> <branch>`), and their removal.
 *
 * Calls that change a repository's worktree list run under its worktree lock
 * ({@link withWorktreeLock}: one at a time per repository, within this process and across all
 * processes, i.e. all nodes): git fills a new `.git/worktrees/<name>` slot without a lock of its
 * own, and other git commands that read or prune the slots meanwhile fail or delete it.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { AppError } from "@/lib/errors";
import { withCheckoutHookOnly } from "./checkout-hook";
import { looseBranchHead } from "./refs";
import { assertValidBranchName, branchExists, resolveCommit } from "./repo";
import { git, GitFailure, lastLine, type GitResult } from "./runner";
import { withWorktreeLock } from "./worktree-lock";

/** Timeout for `git worktree add` in ms: it checks out a full tree, which can be slow. */
const WORKTREE_ADD_TIMEOUT_MS = 10 * 60_000;

function assertAbsolute(p: string, what: string): void {
  if (!path.isAbsolute(p) || p.includes("\0")) throw new AppError("invalid_input", `${what} must be an absolute path: ${JSON.stringify(p)}`);
}

async function isNonEmptyDirOrFile(p: string): Promise<"missing" | "empty" | "occupied"> {
  try {
    const stat = await fs.stat(p);
    if (!stat.isDirectory()) return "occupied";
    return (await fs.readdir(p)).length === 0 ? "empty" : "occupied";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw err;
  }
}

export interface CreateWorktreeInput {
  /** The repository's main work tree (absolute). */
  repoPath: string;
  /** Directory to create the worktree in (absolute; must not exist or be empty). */
  worktreePath: string;
  /** New branch to create (validated with {@link assertValidBranchName}). */
  branch: string;
  /** Ref the branch starts at (a branch name, tag or SHA). */
  base: string;
  /**
   * Let the repo's `post-checkout` hook run during the checkout (its policy opted in). Default
   * false: no hook of the repository runs (./runner.ts, ./checkout-hook.ts).
   */
  runCheckoutHook?: boolean;
}

/**
 * Create a new branch at `base` checked out in a new worktree: {@link createBranch}, then
 * {@link addWorktree}. All-or-nothing: when the checkout fails, the branch (which did not exist
 * before) is deleted again. Lane creation runs the two halves itself, answering between them.
 *
 * @returns `baseSha`: the commit the branch was created at (`base` resolved by git, once).
 * @throws AppError `invalid_input` (bad branch name or relative path), `already_exists` (the path
 *   is a non-empty directory or a file; checked first), `branch_exists`, `not_found` (base names
 *   no commit), `internal` (git failed), `unavailable` (the repository's worktree lock could not
 *   be taken: {@link withWorktreeLock}).
 */
export async function createWorktree(input: CreateWorktreeInput): Promise<{ baseSha: string }> {
  assertAbsolute(input.worktreePath, "worktreePath");
  if ((await isNonEmptyDirOrFile(input.worktreePath)) === "occupied") throw new AppError("already_exists", `worktree path is already in use: ${input.worktreePath}`);
  const made = await createBranch(input.repoPath, input.branch, input.base);
  try {
    await addWorktree(input);
  } catch (err) {
    await git(["branch", "-D", "--", input.branch], { cwd: input.repoPath, allowFailure: true }).catch(() => undefined);
    throw err;
  }
  return made;
}

/**
 * Create branch `branch` at `base`, without checking it out: `git branch --no-track -- <branch>
 * <base>^{commit}`, one git process (git itself refuses a branch that exists and a base that
 * names no commit); the commit it was made at is then read from its ref file
 * ({@link createdBranchHead}). `--no-track`: the branch never gets an upstream, as when it is made
 * from a commit id. Needs no worktree lock: no worktree slot is touched.
 *
 * @returns `baseSha`: the commit the branch was created at (`base` resolved by git, once).
 * @throws AppError `invalid_input` (bad branch name), `branch_exists`, `not_found` (base names no
 *   commit), `internal` (git failed otherwise).
 */
export async function createBranch(repoPath: string, branch: string, base: string): Promise<{ baseSha: string }> {
  assertValidBranchName(branch);
  // No ref starts with '-'; the `--` already keeps it from reading as an option.
  if (!base || base.startsWith("-") || /[\n\0]/.test(base)) throw new AppError("not_found", `no commit named ${JSON.stringify(base)} in ${repoPath}`);
  const res = await git(["branch", "--no-track", "--", branch, `${base}^{commit}`], { cwd: repoPath, allowFailure: true });
  if (res.exitCode === 0) return { baseSha: await createdBranchHead(repoPath, branch) };
  if (/a branch named .* already exists/.test(res.stderr)) throw new AppError("branch_exists", `branch '${branch}' already exists in ${repoPath}`);
  if (/not a valid object name|invalid reference|not a valid branch point/.test(res.stderr)) throw new AppError("not_found", `no commit named ${JSON.stringify(base)} in ${repoPath}`);
  throw new GitFailure(["branch"], res.exitCode ?? -1, res.stderr);
}

/**
 * Check out `branch` (existing, checked out nowhere else: one {@link createBranch} made) in a new
 * worktree at `worktreePath`: `git worktree add --quiet -- <path> <branch>`, under the
 * repository's worktree lock. It is three git processes (`worktree`, then its `symbolic-ref` and
 * `reset --hard` children) and the files' checkout: most of what creating a lane costs.
 *
 * All-or-nothing: if git fails, the worktree registration and the directory (if this call created
 * it) are removed again; the branch is kept.
 *
 * @throws AppError `invalid_input` (relative path), `already_exists` (the path is a non-empty
 *   directory or a file), `internal` (git failed: no such branch, checked out elsewhere, a
 *   timeout), `unavailable` (the worktree lock: {@link withWorktreeLock}).
 */
export async function addWorktree(input: Omit<CreateWorktreeInput, "base">): Promise<void> {
  const { repoPath, worktreePath, branch } = input;
  assertAbsolute(worktreePath, "worktreePath");
  assertValidBranchName(branch);
  await withWorktreeLock(repoPath, async () => {
    const occupancy = await isNonEmptyDirOrFile(worktreePath);
    if (occupancy === "occupied") throw new AppError("already_exists", `worktree path is already in use: ${worktreePath}`);
    await fs.mkdir(path.dirname(worktreePath), { recursive: true });
    const add = (hooksPath?: string): Promise<GitResult> =>
      git(["worktree", "add", "--quiet", "--", worktreePath, branch], {
        cwd: repoPath,
        timeoutMs: WORKTREE_ADD_TIMEOUT_MS,
        allowFailure: true,
        ...(hooksPath ? { hooksPath } : {}),
      });
    let failure: unknown;
    try {
      const res = input.runCheckoutHook ? await withCheckoutHookOnly(repoPath, worktreePath, add) : await add();
      if (res.exitCode === 0) return;
      failure = new GitFailure(["worktree", "add"], res.exitCode ?? -1, res.stderr);
    } catch (err) {
      failure = err; // timeout or spawn failure: git may have got half-way
    }
    await discard(repoPath, worktreePath, { removeDir: occupancy === "missing" });
    throw failure;
  });
}

/**
 * The commit branch `branch`, just created in the repository whose work tree is `workTree`,
 * points at: read from its loose ref file (a new branch is written loose; {@link looseBranchHead}),
 * else asked of git.
 * @throws AppError from {@link resolveCommit}
 */
async function createdBranchHead(workTree: string, branch: string): Promise<string> {
  const loose = looseBranchHead(workTree, branch);
  return loose ?? resolveCommit(workTree, `refs/heads/${branch}`);
}

/**
 * Best-effort undo of a partial `worktree add`: unregister, delete the directory we made, prune.
 * Never throws (it runs while another error is on its way out). Runs under the caller's worktree
 * lock: the `prune` would otherwise delete another node's half-made slot.
 */
async function discard(repoPath: string, worktreePath: string, opts: { removeDir: boolean }): Promise<void> {
  const quiet = { cwd: repoPath, allowFailure: true };
  await git(["worktree", "remove", "--force", "--", worktreePath], quiet).catch(() => undefined);
  if (opts.removeDir) await fs.rm(worktreePath, { recursive: true, force: true }).catch(() => undefined);
  else await emptyDir(worktreePath).catch(() => undefined);
  await git(["worktree", "prune"], quiet).catch(() => undefined);
}

/** Remove the contents of a directory the caller gave us empty, keeping the directory itself. */
async function emptyDir(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir)) await fs.rm(path.join(dir, entry), { recursive: true, force: true });
}

/**
 * Check out an existing branch in a new worktree (`git worktree add --force -- <path> <branch>`):
 * a lane that moves to another node works on its branch in that node's data dir. `--force`
 * because the branch may still be checked out in the worktree of the node it left (on a shared
 * file system); that worktree is no longer used.
 * @throws AppError `invalid_input` (bad branch name or relative path), `already_exists` (the
 *   path is occupied), `not_found` (no such branch), `internal` (git failed), `unavailable`
 *   (worktree lock; {@link withWorktreeLock})
 */
export async function checkoutWorktree(repoPath: string, worktreePath: string, branch: string): Promise<void> {
  assertAbsolute(worktreePath, "worktreePath");
  assertValidBranchName(branch);
  await withWorktreeLock(repoPath, async () => {
    if (!(await branchExists(repoPath, branch))) throw new AppError("not_found", `branch '${branch}' does not exist in ${repoPath}`);
    if ((await isNonEmptyDirOrFile(worktreePath)) === "occupied") throw new AppError("already_exists", `worktree path is already in use: ${worktreePath}`);
    await fs.mkdir(path.dirname(worktreePath), { recursive: true });
    await git(["worktree", "add", "--quiet", "--force", "--", worktreePath, branch], { cwd: repoPath, timeoutMs: WORKTREE_ADD_TIMEOUT_MS });
  });
}

/**
 * Remove a lane's worktree (even with uncommitted changes; `evenLocked`: also when it is locked,
 * as one a `git worktree add` did not finish is) and, if asked, its branch.
 * Idempotent: a worktree that is already gone (directory deleted, registration pruned or not)
 * is not an error, nor is a branch that no longer exists.
 *
 * @throws AppError `invalid_input` (relative path, bad branch name, or the repository's main
 *   work tree), `conflict` (the path exists but is not a worktree of this repository, so it is
 *   left alone; or git refused to delete the branch, e.g. it is checked out elsewhere),
 *   `internal` (git failed otherwise), `unavailable` (worktree lock; {@link withWorktreeLock}).
 */
export async function removeWorktree(repoPath: string, worktreePath: string, opts: { deleteBranch?: string; evenLocked?: boolean } = {}): Promise<void> {
  assertAbsolute(worktreePath, "worktreePath");
  if (opts.deleteBranch !== undefined) assertValidBranchName(opts.deleteBranch);
  await withWorktreeLock(repoPath, async () => {
    // A second --force removes a locked worktree too (git-worktree(1)).
    const force = opts.evenLocked ? ["--force", "--force"] : ["--force"];
    const res = await git(["worktree", "remove", ...force, "--", worktreePath], { cwd: repoPath, allowFailure: true });
    if (res.exitCode !== 0) {
      if (/is a main working tree/.test(res.stderr)) {
        throw new AppError("invalid_input", `refusing to remove the main work tree of ${repoPath}`);
      }
      const notAWorktree = /is not a working tree/.test(res.stderr);
      if (!notAWorktree) throw new GitFailure(["worktree", "remove"], res.exitCode, res.stderr);
      if ((await isNonEmptyDirOrFile(worktreePath)) !== "missing") {
        throw new AppError("conflict", `${worktreePath} is not a worktree of ${repoPath}; not deleting it (${lastLine(res.stderr)})`);
      }
    }
    await git(["worktree", "prune"], { cwd: repoPath });
    if (opts.deleteBranch && (await branchExists(repoPath, opts.deleteBranch))) {
      const del = await git(["branch", "-D", "--", opts.deleteBranch], { cwd: repoPath, allowFailure: true });
      if (del.exitCode !== 0) throw new AppError("conflict", `could not delete branch '${opts.deleteBranch}': ${lastLine(del.stderr)}`);
    }
  });
}
