/**
 * Ref-level questions that freshness, merge readiness and the ref watcher ask many times: where a
 * repository's shared git directory is, every branch head in one call, ancestry, and what a
 * worktree has checked out. Read-only; all calls go through {@link git}.
 */
import fs from "node:fs/promises";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { AppError } from "@/lib/errors";
import { FULL_SHA, resolveCommit } from "./repo";
import { git, GitFailure } from "./runner";

/**
 * The directory git keeps refs and objects in, shared by all worktrees of the repository
 * (`git rev-parse --git-common-dir`, made absolute and realpath'd). For a lane's worktree this is
 * the main repository's `.git`, which is why one watcher per repository sees every lane's branch.
 *
 * @throws AppError from {@link git} if `cwd` is not inside a repository.
 */
export async function gitCommonDir(cwd: string): Promise<string> {
  const res = await git(["rev-parse", "--git-common-dir"], { cwd });
  return fs.realpath(path.resolve(cwd, res.stdout.trim()));
}

/**
 * Every local branch and the commit it points at, from one `git for-each-ref` (loose and packed
 * refs alike). Keys are short names (`main`, `lane/fix`).
 *
 * @throws AppError from {@link git} if `repo` is not a repository.
 */
export async function listBranchHeads(repo: string): Promise<Map<string, string>> {
  // %00 between name and sha: branch names cannot hold NUL, so the split is unambiguous.
  const res = await git(["for-each-ref", "--format=%(refname)%00%(objectname)", "refs/heads/"], { cwd: repo });
  const heads = new Map<string, string>();
  for (const line of res.stdout.split("\n")) {
    if (!line) continue;
    const [ref = "", sha = ""] = line.split("\0");
    heads.set(ref.replace(/^refs\/heads\//, ""), sha);
  }
  return heads;
}

/**
 * The heads of the named branches only (`git for-each-ref refs/heads/<name>…`, one process):
 * short name → commit, with a name missing from the map when the branch does not exist. Cheaper
 * than {@link listBranchHeads} in a repository with thousands of branches, and one process
 * instead of one `rev-parse` per name. A pattern with no glob characters matches its ref exactly
 * or refs below it as a directory, which git cannot have beside a branch of that name; branch
 * names cannot hold glob characters (`git check-ref-format`), so each pattern is literal.
 *
 * @throws AppError from {@link git} if `repo` is not a repository.
 */
export async function branchHeads(repo: string, names: readonly string[]): Promise<Map<string, string>> {
  const wanted = new Set(names.filter((n) => n && !/[\0*?[\\]/.test(n)));
  const heads = new Map<string, string>();
  if (wanted.size === 0) return heads;
  const res = await git(["for-each-ref", "--format=%(refname)%00%(objectname)", "--", ...[...wanted].map((n) => `refs/heads/${n}`)], { cwd: repo });
  for (const line of res.stdout.split("\n")) {
    const [ref = "", sha = ""] = line.split("\0");
    const name = ref.replace(/^refs\/heads\//, "");
    if (wanted.has(name)) heads.set(name, sha);
  }
  return heads;
}

/**
 * Whether commit `ancestor` is reachable from `descendant` (`merge-base --is-ancestor`; a commit
 * is its own ancestor). Both must be commit SHAs or names that resolve.
 *
 * @throws AppError `not_found` if either names no commit.
 */
export async function isAncestor(repo: string, ancestor: string, descendant: string): Promise<boolean> {
  const [a, d] = await Promise.all([resolveCommit(repo, ancestor), resolveCommit(repo, descendant)]);
  const res = await git(["merge-base", "--is-ancestor", "--end-of-options", a, d], { cwd: repo, allowFailure: true });
  if (res.exitCode === 0) return true;
  if (res.exitCode === 1) return false;
  throw new GitFailure(["merge-base"], res.exitCode, res.stderr);
}

/**
 * The best common ancestor of two commits, or null when they share no history.
 * @throws AppError `not_found` if either names no commit.
 */
export async function mergeBase(repo: string, a: string, b: string): Promise<string | null> {
  const [x, y] = await Promise.all([resolveCommit(repo, a), resolveCommit(repo, b)]);
  const res = await git(["merge-base", "--end-of-options", x, y], { cwd: repo, allowFailure: true });
  if (res.exitCode === 0) return res.stdout.trim();
  if (res.exitCode === 1) return null;
  throw new GitFailure(["merge-base"], res.exitCode, res.stderr);
}

/** What a lane's worktree directory holds right now. */
export type WorktreeState =
  | { kind: "missing" }
  | { kind: "not_a_worktree"; message: string }
  | { kind: "branch"; branch: string; head: string | null }
  | { kind: "detached"; head: string };

/**
 * Inspect a worktree: gone, not its own git work tree (e.g. its `.git` file was deleted, so git
 * would find an enclosing repository instead), on a branch, or on a detached HEAD. One
 * `git rev-parse --show-toplevel HEAD --symbolic-full-name HEAD`. Never throws for a broken
 * worktree (that is the answer); throws only for a git timeout.
 */
export async function worktreeState(worktreePath: string): Promise<WorktreeState> {
  let real: string;
  try {
    const stat = await fs.stat(worktreePath);
    if (!stat.isDirectory()) return { kind: "not_a_worktree", message: `${worktreePath} is not a directory` };
    real = await fs.realpath(worktreePath);
  } catch {
    return { kind: "missing" };
  }
  let res;
  try {
    res = await git(["rev-parse", "--show-toplevel", "HEAD", "--symbolic-full-name", "HEAD"], { cwd: real, allowFailure: true });
  } catch (err) {
    if (err instanceof AppError && err.code === "not_found") return { kind: "missing" }; // removed meanwhile
    throw err;
  }
  if (res.exitCode !== 0) return { kind: "not_a_worktree", message: res.stderr.trim().split("\n").pop() || `no HEAD in ${worktreePath}` };
  const [top = "", head = "", ref = ""] = res.stdout.split("\n").map((l) => l.trim());
  if ((await fs.realpath(top).catch(() => top)) !== real) {
    return { kind: "not_a_worktree", message: `${worktreePath} is not a work tree of its own (git found ${top})` };
  }
  if (ref === "HEAD") return { kind: "detached", head };
  return { kind: "branch", branch: ref.replace(/^refs\/heads\//, ""), head };
}

/**
 * {@link worktreeState} read from the files git keeps for a linked worktree, without starting
 * git: `<worktree>/.git` is a file `gitdir: <common>/worktrees/<name>` whose `HEAD` is
 * `ref: refs/heads/<branch>` or a commit (gitrepository-layout(5), git-worktree(1) "DETAILS").
 * `heads` (short branch name → commit, e.g. from {@link listBranchHeads}) supplies the branch's
 * commit. Answers only the ordinary cases (gone, on a branch, detached); anything else (no `.git`
 * file, a `.git` directory, an unreadable or odd gitdir) is null, and the caller asks git
 * ({@link worktreeState}), which knows every case. Never throws.
 */
export async function worktreeStateFromFiles(worktreePath: string, heads: ReadonlyMap<string, string>): Promise<WorktreeState | null> {
  let dotGit: string;
  try {
    dotGit = await fs.readFile(path.join(worktreePath, ".git"), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return (await fs.stat(worktreePath).then(() => true, () => false)) ? null : { kind: "missing" };
    return null; // EISDIR (a repository of its own), EACCES, …: git tells what it is
  }
  const gitdir = /^gitdir: (.+)$/m.exec(dotGit)?.[1]?.trim();
  if (!gitdir) return null;
  const adminDir = path.resolve(worktreePath, gitdir);
  let head: string;
  try {
    // commondir marks a linked worktree's admin directory; without it git would read this differently.
    await fs.access(path.join(adminDir, "commondir"));
    head = (await fs.readFile(path.join(adminDir, "HEAD"), "utf8")).trim();
  } catch {
    return null;
  }
  const ref = /^ref: refs\/heads\/(.+)$/.exec(head)?.[1];
  if (ref) return { kind: "branch", branch: ref, head: heads.get(ref) ?? null };
  if (FULL_SHA.test(head)) return { kind: "detached", head };
  return null;
}

/**
 * The commit branch `branch` points at, read from files without starting git, for a branch just
 * created in the repository whose work tree (main or linked) is `workTree`. A main work tree's
 * `.git` is the git directory itself; a linked one's `.git` is a file `gitdir: <admin dir>`,
 * whose `commondir` names the shared git directory (relative to the admin dir). There the
 * branch's loose ref `refs/heads/<branch>` holds its commit id (gitrepository-layout(5); git
 * writes a new ref loose). Null when any of that is otherwise (a packed or symbolic ref, another
 * ref storage): then ask git. Never throws.
 *
 * Synchronous on purpose: two or three files of a few dozen bytes on the server's own disk, read
 * on the lane-creation path right after `git branch`. Each async read waited its turn on a busy
 * event loop (1 to 38 ms, median 8, while earlier lanes were starting) for ~10 µs of work.
 */
export function looseBranchHead(workTree: string, branch: string): string | null {
  try {
    const dotGit = path.join(workTree, ".git");
    let common = dotGit;
    if (!statSync(dotGit).isDirectory()) {
      const gitdir = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, "utf8"))?.[1]?.trim();
      if (!gitdir) return null;
      const adminDir = path.resolve(workTree, gitdir);
      common = path.resolve(adminDir, readFileSync(path.join(adminDir, "commondir"), "utf8").trim());
    }
    const sha = readFileSync(path.join(common, "refs", "heads", ...branch.split("/")), "utf8").trim();
    return FULL_SHA.test(sha) ? sha : null;
  } catch {
    return null;
  }
}

export interface WorktreeEntry {
  path: string;
  head: string | null;
  /** Short branch name, or null (detached or bare). */
  branch: string | null;
  /** The first entry: the repository's main work tree. */
  main: boolean;
}

/**
 * The repository's worktrees (`git worktree list --porcelain`), main work tree first.
 * @throws AppError from {@link git} if `repo` is not a repository.
 */
export async function listWorktrees(repo: string): Promise<WorktreeEntry[]> {
  const res = await git(["worktree", "list", "--porcelain", "-z"], { cwd: repo });
  const out: WorktreeEntry[] = [];
  let cur: WorktreeEntry | null = null;
  // -z: attributes are NUL-terminated, entries separated by an empty attribute.
  for (const field of res.stdout.split("\0")) {
    if (field.startsWith("worktree ")) {
      cur = { path: field.slice("worktree ".length), head: null, branch: null, main: out.length === 0 };
      out.push(cur);
    } else if (cur && field.startsWith("HEAD ")) cur.head = field.slice(5);
    else if (cur && field.startsWith("branch ")) cur.branch = field.slice(7).replace(/^refs\/heads\//, "");
  }
  return out;
}
