/**
 * Merging, three ways:
 *
 * - {@link mergeTree}: would `branch` merge cleanly into `base`? Answered by
 *   `git merge-tree --write-tree` (git ≥ 2.38), which merges in the object store only: no work
 *   tree, index or ref is touched, so it is safe to ask at any time about any lane.
 * - {@link mergeForward} / {@link rebaseOnto}: bring a lane's branch up to date with its base in
 *   the lane's own worktree (a merge commit, or a rebase); a conflict is aborted, leaving the
 *   worktree as it was, and reported with the conflicting paths.
 * - {@link integrateIntoBase}: land a lane on its base branch (fast-forward, merge commit or
 *   squash) without checking anything out: the commit is built with `merge-tree` + `commit-tree`
 *   and the ref moved with `update-ref <new> <old>`, which fails if the base moved meanwhile. If
 *   the base branch is checked out in a work tree (usually the user's main one), the ref is moved
 *   by `git merge --ff-only` *in that work tree* instead, so its files follow the branch; git
 *   refuses (and nothing changes) when local edits there would be overwritten.
 *
 * Commits Laneboard makes carry the identity {@link LANEBOARD_IDENTITY} and run without hooks
 * (`core.hooksPath=/dev/null`): a repository hook that waits for input would hang automation.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { AppError } from "@/lib/errors";
import { isAncestor, listWorktrees } from "./refs";
import { withWorktreeLock } from "./worktree-lock";
import { resolveCommit } from "./repo";
import { git, GitFailure, lastLine, type GitResult } from "./runner";

/**
 * `-c` options for commits made by Laneboard itself (merge-forward, merge into base). Hooks are
 * off for every call already (./runner.ts).
 */
export const LANEBOARD_IDENTITY = [
  "-c", "user.name=Laneboard",
  "-c", "user.email=laneboard@localhost",
  "-c", "commit.gpgsign=false",
] as const;

export interface MergeTreeResult {
  clean: boolean;
  /** The merged tree (with conflict markers when not clean). */
  tree: string;
  /** Paths with conflicts (empty when clean). */
  conflicts: string[];
  /** git's informational lines, e.g. `CONFLICT (content): Merge conflict in src/a.js`. */
  messages: string[];
}

/**
 * Merge `branch` into `base` in the object store only.
 * @throws AppError `not_found` (a ref names no commit), `internal` (git failed otherwise, e.g.
 *   unrelated histories).
 */
export async function mergeTree(repo: string, base: string, branch: string): Promise<MergeTreeResult> {
  const [b, t] = await Promise.all([resolveCommit(repo, base), resolveCommit(repo, branch)]);
  const res = await git(["-c", "core.quotePath=false", "merge-tree", "--write-tree", "--name-only", "--end-of-options", b, t], { cwd: repo, allowFailure: true });
  if (res.exitCode !== 0 && res.exitCode !== 1) throw new GitFailure(["merge-tree"], res.exitCode, res.stderr);
  // Output: tree id; conflicted paths (one per line); an empty line; informational messages.
  const [head = "", rest = ""] = splitOnce(res.stdout, "\n\n");
  const [tree = "", ...paths] = head.split("\n");
  return { clean: res.exitCode === 0, tree: tree.trim(), conflicts: [...new Set(paths.filter(Boolean))], messages: rest.split("\n").filter(Boolean) };
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + sep.length)];
}

/** Why a merge-forward, rebase or merge did not happen. */
export type SyncFailureKind = "conflict" | "dirty" | "locked" | "failed";

export type SyncResult =
  | { ok: true; head: string; previous: string; fastForward: boolean }
  | { ok: false; kind: SyncFailureKind; previous: string; conflicts: string[]; output: string[]; message: string };

/**
 * Merge `baseSha` into the branch checked out in `worktreePath` (a fast-forward when the branch
 * has no commits of its own). On conflict the merge is aborted, so the worktree is as before.
 * @throws AppError only for timeouts and spawn failures; git's refusals are results.
 */
export async function mergeForward(worktreePath: string, baseSha: string, message: string): Promise<SyncResult> {
  const previous = await resolveCommit(worktreePath, "HEAD");
  const locked = await indexLocked(worktreePath, previous);
  if (locked) return locked;
  const res = await git([...LANEBOARD_IDENTITY, "merge", "--no-edit", "-m", message, "--end-of-options", baseSha], { cwd: worktreePath, allowFailure: true });
  if (res.exitCode === 0) {
    const head = await resolveCommit(worktreePath, "HEAD");
    return { ok: true, head, previous, fastForward: head === baseSha };
  }
  const failure = describeFailure(res, previous);
  if (failure.kind === "conflict") await git(["merge", "--abort"], { cwd: worktreePath, allowFailure: true });
  return failure;
}

/**
 * Rebase the branch checked out in `worktreePath` onto `baseSha`. On conflict the rebase is
 * aborted. Git refuses to start with uncommitted changes (`dirty`).
 * @throws AppError only for timeouts and spawn failures.
 */
export async function rebaseOnto(worktreePath: string, baseSha: string): Promise<SyncResult> {
  const previous = await resolveCommit(worktreePath, "HEAD");
  const locked = await indexLocked(worktreePath, previous);
  if (locked) return locked;
  const res = await git([...LANEBOARD_IDENTITY, "rebase", "--no-autostash", "--end-of-options", baseSha], { cwd: worktreePath, allowFailure: true });
  if (res.exitCode === 0) {
    const head = await resolveCommit(worktreePath, "HEAD");
    return { ok: true, head, previous, fastForward: previous === baseSha || head === baseSha };
  }
  const failure = describeFailure(res, previous);
  if (failure.kind === "conflict") await git(["rebase", "--abort"], { cwd: worktreePath, allowFailure: true });
  return failure;
}

const LOCK_RE = /Unable to create '([^']+\.lock)': File exists/;

/**
 * A worktree whose `index.lock` exists (a git crashed, or one is running) cannot merge: git would
 * get half-way (MERGE_HEAD written, "Unable to write index") and could not even abort. So look
 * first, and leave such a worktree untouched.
 */
async function indexLocked(worktreePath: string, previous: string): Promise<Extract<SyncResult, { ok: false }> | null> {
  const res = await git(["rev-parse", "--git-path", "index.lock"], { cwd: worktreePath });
  const lock = path.resolve(worktreePath, res.stdout.trim());
  if (!(await fs.stat(lock).then(() => true, () => false))) return null;
  const message = `Unable to create '${lock}': File exists (a git process is running here, or one crashed and left it)`;
  return { ok: false, kind: "locked", previous, conflicts: [], output: [message], message };
}

/** Map git's refusal to a kind; `output` keeps git's lines (stdout then stderr) as evidence. */
function describeFailure(res: GitResult, previous: string): Extract<SyncResult, { ok: false }> {
  const output = `${res.stdout}\n${res.stderr}`.split("\n").map((l) => l.trimEnd()).filter(Boolean);
  const conflicts = [...new Set(output.flatMap((l) => /^CONFLICT \([^)]*\): .* in (.+)$/.exec(l)?.[1] ?? /^CONFLICT \([^)]*\): (\S+)/.exec(l)?.[1] ?? []))];
  const lock = output.find((l) => LOCK_RE.test(l) || /cannot lock ref|Unable to write index/.test(l));
  if (lock) return { ok: false, kind: "locked", previous, conflicts: [], output, message: lock };
  if (conflicts.length || output.some((l) => /^Automatic merge failed|^error: could not apply|^Could not apply/.test(l))) {
    return { ok: false, kind: "conflict", previous, conflicts, output, message: `conflict in ${conflicts.join(", ") || "the merge"}` };
  }
  if (output.some((l) => /would be overwritten by merge|You have unstaged changes|Your index contains uncommitted changes|cannot rebase/.test(l))) {
    return { ok: false, kind: "dirty", previous, conflicts: [], output, message: "uncommitted changes in the worktree are in the way" };
  }
  return { ok: false, kind: "failed", previous, conflicts: [], output, message: lastLine(res.stderr) || `git exited with ${res.exitCode}` };
}

export type IntegrateStrategy = "ff" | "merge" | "squash";

export interface IntegrateInput {
  /** The repository's main work tree. */
  repo: string;
  /** Base branch name (short). */
  base: string;
  /** Lane branch name (short). */
  branch: string;
  strategy: IntegrateStrategy;
  /** Message of the merge or squash commit (unused for ff). */
  message: string;
}

export interface IntegrateResult {
  strategy: IntegrateStrategy;
  /** Base head before and after. */
  previous: string;
  sha: string;
  /** The work tree whose checkout was advanced with the branch, if the base was checked out. */
  updatedWorktree: string | null;
}

/**
 * Land `branch` on `base` (see the module comment for how the ref is moved safely).
 *
 * @throws AppError `not_found` (either branch missing), `conflict` (ff impossible because the
 *   base has commits the branch lacks; a merge conflict; nothing to merge; the base moved while
 *   merging; local edits in the work tree that has the base checked out are in the way; a
 *   `.lock` file left by a crashed git — `details.kind` says which: not_fast_forward,
 *   merge_conflict, up_to_date, base_moved, dirty_checkout, locked), `internal` (git failed),
 *   `unavailable` (the repository's worktree lock; ./worktree-lock.ts).
 */
export async function integrateIntoBase(input: IntegrateInput): Promise<IntegrateResult> {
  const { repo, base, branch, strategy } = input;
  const previous = await resolveCommit(repo, `refs/heads/${base}`);
  const head = await resolveCommit(repo, `refs/heads/${branch}`);
  if (await isAncestor(repo, head, previous)) {
    throw new AppError("conflict", `'${branch}' has nothing that '${base}' lacks: already merged`, { kind: "up_to_date" });
  }
  let sha: string;
  if (strategy === "ff") {
    if (!(await isAncestor(repo, previous, head))) {
      throw new AppError("conflict", `cannot fast-forward '${base}' to '${branch}': '${base}' has commits '${branch}' lacks; merge forward first or use strategy "merge"`, { kind: "not_fast_forward" });
    }
    sha = head;
  } else {
    const merged = await mergeTree(repo, previous, head);
    if (!merged.clean) {
      throw new AppError("conflict", `'${branch}' conflicts with '${base}' in ${merged.conflicts.join(", ")}`, { kind: "merge_conflict", conflicts: merged.conflicts, messages: merged.messages });
    }
    const parents = strategy === "merge" ? ["-p", previous, "-p", head] : ["-p", previous];
    const commit = await git([...LANEBOARD_IDENTITY, "commit-tree", "-m", input.message, ...parents, "--end-of-options", merged.tree], { cwd: repo });
    sha = commit.stdout.trim();
  }
  // Under the worktree lock: `git worktree list` reads every `.git/worktrees` slot and dies on one
  // that another node's `worktree add` is still filling (./worktree-lock.ts).
  const checkedOut = (await withWorktreeLock(repo, () => listWorktrees(repo))).find((w) => w.branch === base);
  if (checkedOut && checkedOut.head !== previous) {
    throw new AppError("conflict", `'${base}' moved while merging; try again`, { kind: "base_moved" });
  }
  if (checkedOut) {
    // Moves the ref and the files together; refuses if local edits would be overwritten.
    const res = await git([...LANEBOARD_IDENTITY, "merge", "--ff-only", "--no-edit", "--end-of-options", sha], { cwd: checkedOut.path, allowFailure: true });
    if (res.exitCode !== 0) throw refusal(res, base, checkedOut.path);
  } else {
    const res = await git(["update-ref", "-m", `laneboard: ${strategy} ${branch}`, `refs/heads/${base}`, sha, previous], { cwd: repo, allowFailure: true });
    if (res.exitCode !== 0) throw refusal(res, base, null);
  }
  return { strategy, previous, sha, updatedWorktree: checkedOut?.path ?? null };
}

function refusal(res: GitResult, base: string, worktree: string | null): AppError {
  const text = `${res.stdout}\n${res.stderr}`;
  const lock = LOCK_RE.exec(text);
  if (lock) return new AppError("conflict", `a git lock file is in the way: ${lock[1]} (a crashed git left it? remove it once no git runs)`, { kind: "locked", path: lock[1] });
  if (/would be overwritten|Not possible to fast-forward|not something we can merge|Your local changes/.test(text) && worktree) {
    return new AppError("conflict", `'${base}' is checked out in ${worktree} and its local state is in the way: ${lastLine(res.stderr) || lastLine(res.stdout)}`, { kind: "dirty_checkout", worktree });
  }
  if (/cannot lock ref|but expected|is at .* but expected/.test(text)) {
    return new AppError("conflict", `'${base}' moved while merging; try again`, { kind: "base_moved" });
  }
  return new GitFailure(["merge"], res.exitCode, res.stderr);
}
