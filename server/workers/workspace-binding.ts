/**
 * Workspace binding: a lane's worker may touch only its worktree.
 *
 * {@link WorkspaceBinding.check} looks at each engine signal for paths the agent reports:
 * the cwd in `ready` (Claude Code's `system/init` `cwd`, the built-in agent's root), and tool
 * inputs: `file_path` / `path` / `notebook_path` / `cwd` / `workdir` keys (Claude Code's
 * Read/Write/Edit/Glob/Grep, the built-in agent's file tools) and Codex `file_change`
 * `changes[].path`. Relative paths are resolved against the worktree. A write (file-editing
 * tools) must land inside the worktree; a read or a cwd may also be inside the extra read roots
 * (the lane's private directory, where the agent's HOME lives). Symlinks in the existing part
 * of a path are resolved, so a link that leads out is caught, and a worktree reached through a
 * symlinked data directory still matches.
 *
 * Blind spot, by design of the engines' output: a shell command (`Bash`, `exec_command`) that
 * writes elsewhere (`cd /x && …`) reports no path. Codex's default sandbox and Claude Code's
 * `acceptEdits` mode refuse most of those writes themselves (see server/engines/*.ts).
 *
 * {@link detectPhantomCompletion}: a worker that reports success while its branch has no
 * commit and its worktree no change against the lane's base commit.
 */
import fs from "node:fs";
import path from "node:path";
import { git } from "../git/git";
import type { EngineSignal } from "../engines/engine-events";

/** Tools whose path input is written (Claude Code, the built-in `anthropic` agent, Codex items). */
const WRITE_TOOLS = new Set(["Write", "Edit", "MultiEdit", "NotebookEdit", "write_file", "edit_file", "file_change"]);
const PATH_KEYS = ["file_path", "path", "notebook_path", "cwd", "workdir"];

export interface ReportedPath {
  path: string;
  /** `cwd` or `tool:<name>`. */
  source: string;
  write: boolean;
}

export interface WorkspaceViolation {
  /** The worktree root. */
  expected: string;
  /** The offending path, resolved (absolute). */
  actual: string;
  source: string;
}

/** The paths one engine signal reports (none for most signals). */
export function reportedPaths(signal: EngineSignal): ReportedPath[] {
  if (signal.kind === "ready") return signal.cwd ? [{ path: signal.cwd, source: "cwd", write: false }] : [];
  if (signal.kind !== "tool_use" || !signal.input || typeof signal.input !== "object") return [];
  const input = signal.input as Record<string, unknown>;
  const source = `tool:${signal.name}`;
  const write = WRITE_TOOLS.has(signal.name);
  const out: ReportedPath[] = [];
  for (const key of PATH_KEYS) {
    const v = input[key];
    if (typeof v === "string" && v !== "") out.push({ path: v, source, write: write && key !== "cwd" && key !== "workdir" });
  }
  if (Array.isArray(input.changes)) {
    for (const c of input.changes) {
      const p = c && typeof c === "object" ? (c as Record<string, unknown>).path : undefined;
      if (typeof p === "string" && p !== "") out.push({ path: p, source, write: true });
    }
  }
  return out;
}

/** `p` with symlinks resolved in its longest existing prefix (the rest appended as given). */
export function realpathLoose(p: string): string {
  let head = path.resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...rest.reverse());
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return path.resolve(p);
      rest.push(path.basename(head));
      head = parent;
    }
  }
}

const inside = (root: string, p: string) => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

export class WorkspaceBinding {
  readonly #roots: string[];
  readonly #readRoots: string[];

  /**
   * @param worktree the lane's worktree (absolute)
   * @param extraReadRoots directories a read or cwd may also be in (absolute), e.g. the lane directory
   */
  constructor(
    readonly worktree: string,
    extraReadRoots: string[] = [],
  ) {
    this.#roots = [...new Set([path.resolve(worktree), realpathLoose(worktree)])];
    this.#readRoots = [...this.#roots, ...extraReadRoots.flatMap((r) => [path.resolve(r), realpathLoose(r)])];
  }

  /** The first path of `signal` outside the binding, or null. Never throws. */
  check(signal: EngineSignal): WorkspaceViolation | null {
    for (const r of reportedPaths(signal)) {
      if (r.path.includes("\0")) return { expected: this.worktree, actual: JSON.stringify(r.path), source: r.source };
      const abs = path.resolve(this.worktree, r.path);
      const roots = r.write ? this.#roots : this.#readRoots;
      const ok = roots.some((root) => inside(root, abs)) && roots.some((root) => inside(root, realpathLoose(abs)));
      if (!ok) return { expected: this.worktree, actual: abs, source: r.source };
    }
    return null;
  }
}

/**
 * Whether a worker's claimed success left nothing behind: no commit on the worktree's HEAD
 * since `baseSha` (`git rev-list --count <base>..HEAD` = 0) and a clean worktree
 * (`git status --porcelain` empty; untracked files count as a change).
 * @returns `{ phantom, head, ahead, changed }`: commits since the base, and up to
 *   {@link MAX_CHANGED_LISTED} `git status --porcelain` lines
 * @throws AppError from git (not a repository, unknown base)
 */
export async function detectPhantomCompletion(worktreePath: string, baseSha: string): Promise<{ phantom: boolean; head: string; ahead: number; changed: string[] }> {
  const head = (await git(["rev-parse", "--verify", "HEAD"], { cwd: worktreePath })).stdout.trim();
  const ahead = Number((await git(["rev-list", "--count", "--end-of-options", `${baseSha}..${head}`], { cwd: worktreePath })).stdout.trim());
  const status = ahead > 0 ? "" : (await git(["status", "--porcelain", "--untracked-files=normal"], { cwd: worktreePath })).stdout;
  const changed = status.split("\n").filter((l) => l.trim() !== "").slice(0, MAX_CHANGED_LISTED);
  return { phantom: ahead === 0 && changed.length === 0, head, ahead, changed };
}

/** Status lines listed by {@link detectPhantomCompletion}. */
export const MAX_CHANGED_LISTED = 20;
