/**
 * Commits as provenance: who made a commit, on top of what, touching which files, and which
 * earlier commits a rewritten branch (rebase, amend) replaces. Read-only; all calls go through
 * {@link git} with `--end-of-options` before revisions.
 */
import { FULL_SHA, parseShaSubjects, resolveCommit } from "./repo";
import { AppError } from "@/lib/errors";
import { git, GitFailure, lastLine } from "./runner";

export interface CommitInfo {
  sha: string;
  subject: string;
  /** `Name <email>` of the author. */
  author: string;
  /** ISO 8601 author date. */
  authoredAt: string;
  /** Parent SHAs; two or more for a merge commit. */
  parents: string[];
  /** Paths changed against the first parent (all paths for a root commit), at most {@link MAX_FILES}. */
  files: string[];
  /** Total number of changed paths (may exceed `files.length`). */
  filesChanged: number;
}

/** Most file paths kept per commit (a vendoring commit can touch thousands). */
export const MAX_FILES = 200;

/**
 * Provenance of one commit.
 * @throws AppError `not_found` if `rev` names no commit.
 */
export async function commitInfo(repo: string, rev: string): Promise<CommitInfo> {
  const sha = await resolveCommit(repo, rev);
  const meta = await git(["show", "-s", "--no-color", "--format=%H%x00%P%x00%an <%ae>%x00%aI%x00%s", "--end-of-options", sha], { cwd: repo });
  const [, parents = "", author = "", authoredAt = "", subject = ""] = meta.stdout.split("\0");
  const all = await changedFiles(repo, sha);
  return {
    sha,
    subject,
    author,
    authoredAt,
    parents: parents.split(" ").filter(Boolean),
    files: all.slice(0, MAX_FILES),
    filesChanged: all.length,
  };
}

/**
 * Paths a commit changed against its first parent (`diff-tree -r --root -m --first-parent`), or,
 * with `to`, paths that differ between two commits. Renames count as the new path.
 * @throws AppError `not_found` if a revision names no commit.
 */
export async function changedFiles(repo: string, from: string, to?: string): Promise<string[]> {
  const a = await resolveCommit(repo, from);
  const args = to
    ? ["diff", "--name-only", "-z", "--no-renames", "--end-of-options", a, await resolveCommit(repo, to)]
    : ["diff-tree", "-r", "--root", "-m", "--first-parent", "--no-commit-id", "--name-only", "-z", "--end-of-options", a];
  const res = await git(args, { cwd: repo });
  return [...new Set(res.stdout.split("\0").filter(Boolean))];
}

/**
 * Commits reachable from `head` but from none of `exclude` (`git rev-list --reverse head
 * ^exclude…`), **oldest first**. Used for "the lane's own new commits": exclude its previous
 * head and its base branch, so commits merged in from main by a merge-forward do not count.
 * One git process: each name is given to rev-list peeled (`<name>^{commit}`, a full SHA as is),
 * after `--end-of-options` and before `--`; a name holding `..` or starting with `^` or `-`
 * (which rev-list would read as a range, a negation or an option) names no commit here.
 * @throws AppError `not_found` if a revision names no commit.
 */
export async function commitsExcluding(repo: string, head: string, exclude: readonly string[], limit = 1000): Promise<string[]> {
  const rev = (r: string) => {
    if (!r || /[\0\n]|\.\./.test(r) || r.startsWith("^") || r.startsWith("-")) throw new AppError("not_found", `no commit named ${JSON.stringify(r)} in ${repo}`);
    return FULL_SHA.test(r) ? r : `${r}^{commit}`;
  };
  const args = ["rev-list", "--reverse", `--max-count=${limit}`, "--end-of-options", rev(head), ...exclude.map((r) => `^${rev(r)}`), "--"];
  const res = await git(args, { cwd: repo, allowFailure: true });
  if (res.exitCode !== 0) {
    if (/bad revision|bad object|unknown revision|ambiguous argument|not a commit|invalid object/i.test(res.stderr)) {
      throw new AppError("not_found", `no commit named by one of ${JSON.stringify([head, ...exclude])} in ${repo} (${lastLine(res.stderr)})`);
    }
    throw new GitFailure(["rev-list"], res.exitCode, res.stderr);
  }
  return res.stdout.split("\n").filter(Boolean);
}

/**
 * Stable patch ids (`git patch-id --stable`, the same ids `git cherry` compares) of commits: two
 * commits with the same id make the same change, e.g. the same commit before and after a rebase
 * onto a base that did not touch its files. Merge commits and empty commits have no id.
 * @returns commit SHA → patch id, for the commits that have one.
 */
export async function patchIds(repo: string, shas: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (shas.length === 0) return out;
  // One diff-tree for all commits, piped into one patch-id: it prints "<patch-id> <commit>".
  const diff = await git(["diff-tree", "-p", "--no-color", "--stdin"], { cwd: repo, input: `${shas.join("\n")}\n` });
  if (!diff.stdout.trim()) return out;
  const ids = await git(["patch-id", "--stable"], { cwd: repo, input: `${diff.stdout}\n` });
  for (const line of ids.stdout.split("\n")) {
    const [pid, commit] = line.trim().split(/\s+/);
    if (pid && commit) out.set(commit, pid);
  }
  return out;
}

export interface NewCommit extends CommitInfo {
  /** Earlier commits of the branch this one replaces (rebase or amend), oldest first. */
  supersedes: string[];
  /** The branch was rewritten: `since` is no longer an ancestor of `head`. */
  rewrite: boolean;
}

/**
 * The commits a branch gained since it was last seen at `since`, oldest first, leaving out
 * commits reachable from `base` (a merge-forward brings main's commits in; they are not the
 * lane's), at most `limit`.
 *
 * If the branch was rewritten (`since` is no longer an ancestor of `head`: a rebase, an amend, a
 * reset), each new commit is matched to the old commit it replaces: first by stable patch id (a
 * rebase that replays the same change), then the unmatched ones pairwise in order when as many
 * were replaced as were added (an amend), else the last new commit supersedes every unmatched
 * old one (a squash).
 *
 * @throws AppError `not_found` if `head` names no commit.
 */
export async function newCommitsSince(repo: string, opts: { since: string | null; head: string; base: string | null; limit?: number }): Promise<NewCommit[]> {
  const { head, base } = opts;
  const since = opts.since && (await resolveCommit(repo, opts.since).catch(() => null)); // gone (gc) → treat as unknown
  const rewrite = since ? !(await isAncestorOf(repo, since, head)) : false;
  const exclude = [since, base].filter((x): x is string => !!x);
  const added = await commitsExcluding(repo, head, exclude, opts.limit ?? 200);
  const replaced = rewrite && since ? await commitsExcluding(repo, since, [head, ...(base ? [base] : [])], 1000) : [];
  const supersedes = new Map<string, string[]>();
  if (replaced.length) {
    const ids = await patchIds(repo, [...added, ...replaced]);
    const oldByPid = new Map(replaced.filter((s) => ids.has(s)).map((s) => [ids.get(s)!, s]));
    const matchedOld = new Set<string>();
    for (const sha of added) {
      const old = oldByPid.get(ids.get(sha) ?? "");
      if (old) {
        supersedes.set(sha, [old]);
        matchedOld.add(old);
      }
    }
    const newLeft = added.filter((s) => !supersedes.has(s));
    const oldLeft = replaced.filter((s) => !matchedOld.has(s));
    if (newLeft.length === oldLeft.length) newLeft.forEach((s, i) => supersedes.set(s, [oldLeft[i]!]));
    else if (newLeft.length > 0 && oldLeft.length > 0) supersedes.set(newLeft[newLeft.length - 1]!, oldLeft);
  }
  const out: NewCommit[] = [];
  for (const sha of added) out.push({ ...(await commitInfo(repo, sha)), supersedes: supersedes.get(sha) ?? [], rewrite });
  return out;
}

async function isAncestorOf(repo: string, a: string, b: string): Promise<boolean> {
  const res = await git(["merge-base", "--is-ancestor", "--end-of-options", a, b], { cwd: repo, allowFailure: true });
  return res.exitCode === 0;
}

/**
 * Base commits a branch is missing (`git log branch..base`), newest first, at most `limit`.
 * @throws AppError `not_found` if either names no commit.
 */
export async function missingCommits(repo: string, branch: string, base: string, limit = 50): Promise<{ sha: string; subject: string }[]> {
  const [b, t] = await Promise.all([branch, base].map((r) => (FULL_SHA.test(r) ? r : resolveCommit(repo, r))));
  const res = await git(["log", "--no-color", `--max-count=${limit}`, "--format=%H%x00%s", "--end-of-options", `${b}..${t}`], { cwd: repo });
  return parseShaSubjects(res.stdout);
}
