/**
 * What a branch changed against a base, for review: the list of changed files with their line
 * counts (cheap, one `git diff --numstat`), and the unified patch of one file at a time (so a
 * huge diff costs only the files a person opens). Read-only, object store only (the work tree is
 * not read): both sides are commits. Revisions go after `--end-of-options`, paths after `--`.
 *
 * Formats: `git diff --numstat -z` and `--name-status -z` (git-diff(1), "RAW OUTPUT FORMAT" and
 * "--numstat"); the patch is git's unified diff ("GENERATING PATCH TEXT WITH -P").
 */
import { AppError } from "@/lib/errors";
import { resolveCommit } from "./repo";
import { git } from "./runner";

export type DiffFileStatus = "added" | "modified" | "deleted" | "renamed" | "copied" | "type_changed";

export interface DiffFileEntry {
  /** Path on the new side (the old path for a deleted file). */
  path: string;
  /** Path on the old side when renamed or copied, else null. */
  oldPath: string | null;
  status: DiffFileStatus;
  /** Added / deleted lines; null for a binary file. */
  additions: number | null;
  deletions: number | null;
  binary: boolean;
}

const STATUS: Record<string, DiffFileStatus> = { A: "added", M: "modified", D: "deleted", R: "renamed", C: "copied", T: "type_changed" };

/** Common options: rename detection, no colour, no external diff drivers or textconv (they could run repo-configured programs). */
const DIFF_OPTS = ["--no-color", "--no-ext-diff", "--no-textconv", "-M"];

/**
 * The files that differ between two commits, in git's order.
 * @throws AppError `not_found` if a revision names no commit.
 */
export async function diffFiles(repo: string, from: string, to: string): Promise<DiffFileEntry[]> {
  const [a, b] = await Promise.all([resolveCommit(repo, from), resolveCommit(repo, to)]);
  const [status, numstat] = await Promise.all([
    git(["diff", ...DIFF_OPTS, "--name-status", "-z", "--end-of-options", a, b], { cwd: repo }),
    git(["diff", ...DIFF_OPTS, "--numstat", "-z", "--end-of-options", a, b], { cwd: repo }),
  ]);
  const counts = parseNumstat(numstat.stdout);
  return parseNameStatus(status.stdout).map((f) => {
    const c = counts.get(f.path);
    return { ...f, additions: c?.additions ?? null, deletions: c?.deletions ?? null, binary: c ? c.additions === null : false };
  });
}

/**
 * Parse `--name-status -z`: `X\0path\0` or, for renames and copies, `Rnnn\0old\0new\0`.
 * @returns entries without counts
 */
export function parseNameStatus(out: string): Omit<DiffFileEntry, "additions" | "deletions" | "binary">[] {
  const parts = out.split("\0");
  const files: Omit<DiffFileEntry, "additions" | "deletions" | "binary">[] = [];
  for (let i = 0; i < parts.length; ) {
    const code = parts[i++];
    if (!code) continue;
    const status = STATUS[code[0]!] ?? "modified";
    if (status === "renamed" || status === "copied") {
      const oldPath = parts[i++]!;
      files.push({ path: parts[i++]!, oldPath, status });
    } else files.push({ path: parts[i++]!, oldPath: null, status });
  }
  return files;
}

/**
 * Parse `--numstat -z`: `added\tdeleted\tpath\0`, or for a rename `added\tdeleted\t\0old\0new\0`;
 * `-` for both counts marks a binary file.
 * @returns counts keyed by the new path
 */
export function parseNumstat(out: string): Map<string, { additions: number | null; deletions: number | null }> {
  const parts = out.split("\0");
  const map = new Map<string, { additions: number | null; deletions: number | null }>();
  for (let i = 0; i < parts.length; ) {
    const head = parts[i++];
    if (!head) continue;
    const [add = "-", del = "-", inlinePath = ""] = head.split("\t");
    let path = inlinePath;
    if (!path) {
      i++; // old path
      path = parts[i++] ?? "";
    }
    map.set(path, { additions: add === "-" ? null : Number(add), deletions: del === "-" ? null : Number(del) });
  }
  return map;
}

/**
 * The unified diff of one file between two commits (`git diff a b -- path`, with its rename
 * source when given), cut at `maxBytes` on a line boundary.
 * @returns the patch text (starting at `diff --git`) and whether it was cut
 * @throws AppError `not_found` if a revision names no commit.
 */
export async function diffFilePatch(
  repo: string,
  from: string,
  to: string,
  file: { path: string; oldPath?: string | null },
  opts: { context?: number; maxBytes?: number } = {},
): Promise<{ patch: string; truncated: boolean }> {
  const [a, b] = await Promise.all([resolveCommit(repo, from), resolveCommit(repo, to)]);
  const paths = file.oldPath && file.oldPath !== file.path ? [file.oldPath, file.path] : [file.path];
  const res = await git(["diff", ...DIFF_OPTS, `-U${opts.context ?? 3}`, "--end-of-options", a, b, "--", ...paths], { cwd: repo });
  const max = opts.maxBytes ?? 2 * 1024 * 1024;
  if (Buffer.byteLength(res.stdout) <= max) return { patch: res.stdout, truncated: false };
  const cut = res.stdout.slice(0, max);
  return { patch: cut.slice(0, Math.max(0, cut.lastIndexOf("\n"))), truncated: true };
}

/** A path as given by a client: relative, no NUL, no `..` segment (it is also checked against the diff's list). @throws AppError invalid_input */
export function assertReviewPath(p: string): void {
  if (!p || p.includes("\0") || p.startsWith("/") || p.split("/").includes("..")) throw new AppError("invalid_input", `not a path in this diff: ${p}`, { field: "path" });
}
