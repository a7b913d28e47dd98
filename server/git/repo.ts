/**
 * Read-only questions about a repository: is this a work tree and what is its main branch, is a
 * branch name acceptable, does a branch exist, which commit does a ref name, how far apart are
 * two refs. All git calls go through {@link git} with `--end-of-options` before refs.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { AppError } from "@/lib/errors";
import { BranchNameSchema } from "@/lib/task-packet";
import { git, GitFailure, lastLine } from "./runner";

export interface RepoInfo {
  /** Realpath of the work tree's top-level directory. */
  root: string;
  /** Basename of `root`. */
  name: string;
  /** The branch lanes are based on and compared against. */
  mainBranch: string;
}

/** Branch names tried, in order, after the configured one. */
export const MAIN_BRANCH_CANDIDATES = ["main", "master"] as const;

/**
 * Kernel pseudo file systems: `/proc/self/cwd` and `/proc/<pid>/root` are aliases of the
 * server's own directories, and nothing under `/sys` or `/dev` is a repository.
 */
const PSEUDO_FS = /^\/(?:proc|sys|dev)(?:\/|$)/;

/** @throws AppError `invalid_input` (field `path`) unless `p` is absolute, NUL-free and outside {@link PSEUDO_FS}. */
function assertRepoPath(p: string): void {
  const refuse = (why: string) => new AppError("invalid_input", `path ${why}: ${JSON.stringify(p)}`, { field: "path" });
  if (p.includes("\0")) throw refuse("must not contain a NUL byte");
  if (!path.isAbsolute(p)) throw refuse("must be absolute (a relative path is not resolved against the server's directory)");
  if (PSEUDO_FS.test(path.normalize(p))) throw refuse("must not be under /proc, /sys or /dev");
}

/** Most links one path may pass through (Linux's own limit before ELOOP). */
const MAX_LINK_HOPS = 40;

/**
 * Follow `p`'s symbolic links one hop at a time and refuse it if any hop lands under
 * {@link PSEUDO_FS}. `realpath` alone cannot see it: `/proc/self/cwd` is itself a link to the
 * server's working directory, so a link to it resolves to an ordinary-looking path.
 * A component that does not exist ends the walk (the caller's realpath reports it).
 * @throws AppError `invalid_input` (field `path`)
 */
async function assertNoPseudoHop(p: string): Promise<void> {
  const pending = p.split("/").filter(Boolean);
  let current = "/";
  let hops = 0;
  while (pending.length > 0) {
    const next = path.join(current, pending.shift()!);
    if (PSEUDO_FS.test(next)) assertRepoPath(next);
    const stat = await fs.lstat(next).catch(() => null);
    if (!stat) return;
    if (!stat.isSymbolicLink()) {
      current = next;
      continue;
    }
    if (++hops > MAX_LINK_HOPS) return;
    const target = await fs.readlink(next);
    pending.unshift(...target.split("/").filter(Boolean));
    if (path.isAbsolute(target)) current = "/";
  }
}

/**
 * Validate a local repository and find its main branch.
 *
 * @param repoPath an absolute path of a directory inside a git work tree; a subdirectory resolves
 *   to the work tree's top level. Symbolic links are followed, but neither the path nor any
 *   link it passes through may lead under `/proc`, `/sys` or `/dev`.
 * @param configuredMain preferred main branch; used only if it exists, else `main`, else `master`.
 * @throws AppError `invalid_input` (relative, a NUL byte, or a pseudo file system; field
 *   `path`), `not_found` (path does not exist), `not_a_git_repo` (a plain directory, a file, a
 *   bare repository or a `.git` directory), `no_main_branch` (none of the candidates exists; the
 *   message lists them; also the case for a repository without commits).
 */
export async function inspectRepo(repoPath: string, configuredMain?: string): Promise<RepoInfo> {
  assertRepoPath(repoPath);
  await assertNoPseudoHop(repoPath);
  const abs = path.normalize(repoPath);
  const real = await fs.realpath(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT" || err.code === "ENOTDIR" || err.code === "ELOOP") throw new AppError("not_found", `path does not exist: ${abs}`);
    throw err;
  });
  assertRepoPath(real);
  const stat = await fs.stat(real);
  if (!stat.isDirectory()) throw new AppError("not_a_git_repo", `not a directory: ${abs}`);

  const probe = await git(["rev-parse", "--is-bare-repository", "--is-inside-work-tree"], { cwd: real, allowFailure: true });
  if (probe.exitCode !== 0) {
    throw new AppError("not_a_git_repo", `not a git repository: ${abs} (${lastLine(probe.stderr)})`);
  }
  const [bare, inside] = probe.stdout.split("\n");
  if (bare === "true") throw new AppError("not_a_git_repo", `${abs} is a bare repository; Laneboard needs a work tree`);
  if (inside !== "true") throw new AppError("not_a_git_repo", `${abs} is inside a .git directory, not a work tree`);

  const top = await git(["rev-parse", "--show-toplevel"], { cwd: real });
  const root = await fs.realpath(top.stdout);
  assertRepoPath(root);

  const candidates = [...new Set([configuredMain, ...MAIN_BRANCH_CANDIDATES].filter((b): b is string => !!b))];
  for (const candidate of candidates) {
    if (await branchExists(root, candidate)) return { root, name: path.basename(root), mainBranch: candidate };
  }
  throw new AppError(
    "no_main_branch",
    `no main branch in ${root}: looked for ${candidates.map((c) => `'${c}'`).join(", ")}; register it with mainBranch set to an existing branch`,
  );
}

/**
 * Accept a name for a branch Laneboard will create: {@link BranchNameSchema}, which accepts only
 * names `git check-ref-format --branch` accepts too (and is stricter: no leading `-`, no shell
 * metacharacters), so no git process runs for it.
 *
 * @throws AppError `invalid_input` naming the rule that failed.
 */
export function assertValidBranchName(name: string): void {
  const parsed = BranchNameSchema.safeParse(name);
  if (!parsed.success) {
    const reason = parsed.error.issues[0]?.message ?? "invalid";
    throw new AppError("invalid_input", `invalid branch name ${JSON.stringify(name)}: ${reason}`, { field: "branch" });
  }
}

/**
 * Whether `refs/heads/<name>` exists, matched exactly (`show-ref --verify`, so revision syntax
 * such as `main~1` never counts). Names git cannot hold simply do not exist.
 *
 * @throws AppError from {@link git} if `repo` is not a repository.
 */
export async function branchExists(repo: string, name: string): Promise<boolean> {
  if (!name || name.includes("\0")) return false;
  // The `refs/heads/` prefix keeps the argument from ever reading as an option.
  const res = await git(["show-ref", "--verify", "--quiet", `refs/heads/${name}`], { cwd: repo, allowFailure: true });
  if (res.exitCode === 0) return true;
  if (res.exitCode === 1) return false;
  throw new GitFailure(["show-ref"], res.exitCode, res.stderr);
}

/**
 * The full commit SHA that `ref` (a branch, tag, SHA or revision expression) names.
 *
 * @throws AppError `not_found` if it names no commit; from {@link git} if `repo` is not a repository.
 */
export async function resolveCommit(repo: string, ref: string): Promise<string> {
  if (!ref || ref.includes("\0")) throw new AppError("invalid_input", `invalid ref ${JSON.stringify(ref)}`);
  const res = await git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], { cwd: repo, allowFailure: true });
  if (res.exitCode === 0 && res.stdout) return res.stdout.trim();
  if (res.exitCode === 1) throw new AppError("not_found", `no commit named ${JSON.stringify(ref)} in ${repo}`);
  throw new GitFailure(["rev-parse"], res.exitCode, res.stderr);
}

/**
 * SHA of `HEAD` in a work tree (a lane's worktree or a repo root).
 *
 * @throws AppError `not_found` if HEAD has no commit yet; from {@link git} if not a repository.
 */
export async function headSha(cwd: string): Promise<string> {
  return resolveCommit(cwd, "HEAD");
}

/** A full (SHA-1 or SHA-256) object id in lowercase hex. */
export const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * How far `branch` has moved from `base` and how far `base` has moved on since:
 * `git rev-list --left-right --count <base>...<branch>` prints `<left>\t<right>`, where left
 * counts commits only in `base` (the branch is **behind** by that many) and right counts commits
 * only in `branch` (it is **ahead** by that many).
 *
 * @throws AppError `not_found` if either ref names no commit.
 */
export async function aheadBehind(repoPath: string, base: string, branch: string): Promise<{ ahead: number; behind: number }> {
  // Resolve first: a ref holding "..." itself could otherwise change the meaning of the range.
  // Full SHAs (callers that just read them) need no round trip; an unknown one fails in rev-list.
  const [b, t] = await Promise.all([base, branch].map((r) => (FULL_SHA.test(r) ? r : resolveCommit(repoPath, r))));
  const res = await git(["rev-list", "--left-right", "--count", "--end-of-options", `${b}...${t}`], { cwd: repoPath });
  const match = /^(\d+)\s+(\d+)$/.exec(res.stdout.trim());
  if (!match) throw new AppError("internal", `unexpected rev-list output: ${JSON.stringify(res.stdout)}`);
  return { behind: Number(match[1]), ahead: Number(match[2]) };
}

/**
 * Commits reachable from `to` but not from `from` (`git log from..to`), **oldest first**.
 *
 * @throws AppError `not_found` if either ref names no commit.
 */
export async function commitsBetween(repoPath: string, from: string, to: string): Promise<{ sha: string; subject: string }[]> {
  const [f, t] = await Promise.all([resolveCommit(repoPath, from), resolveCommit(repoPath, to)]);
  // NUL between sha and subject; a subject (%s) is always a single line.
  const res = await git(["log", "--reverse", "--no-color", "--format=%H%x00%s", "--end-of-options", `${f}..${t}`], { cwd: repoPath });
  return parseShaSubjects(res.stdout);
}

/** Parse `git log --format=%H%x00%s` output: one `{sha, subject}` per line (a subject is one line). */
export function parseShaSubjects(stdout: string): { sha: string; subject: string }[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [sha = "", subject = ""] = line.split("\0");
      return { sha, subject };
    });
}
