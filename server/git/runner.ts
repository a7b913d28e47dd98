/**
 * The one way Laneboard runs git: {@link git}. Every call runs in the git helper process
 * (spawner.ts) with an argument array (never a shell string), a fixed environment and a timeout,
 * and failures become `AppError`s with a readable message. Callers put `--end-of-options` before user-supplied refs
 * and `--` before paths (house style §6); this module cannot do that for them because where the
 * terminator goes depends on the subcommand.
 *
 * A repository runs none of its own code in Laneboard's git calls: every call gets
 * {@link noRepoCodeConfig}, so its hooks (post-checkout during `worktree add`,
 * reference-transaction on every ref update, pre-merge-commit, …) and its `core.fsmonitor`
 * program do not run. Its code runs only when a lane's own command runs it. The one exception a
 * caller can ask for is {@link GitOptions.hooksPath}, a directory of hooks it vetted (a repo
 * policy's checkout-hook opt-in, server/git/worktree.ts).
 */
import fs from "node:fs";
import { AppError } from "@/lib/errors";
import { spawnInHelper } from "./spawner";

/** Default git timeout in ms; long enough for a checkout of a big repo on a slow disk. */
export const GIT_TIMEOUT_MS = 60_000;

/** Largest stdout/stderr kept from one git call, in bytes (commit lists of huge ranges). */
const MAX_BUFFER_BYTES = 64 * 1024 * 1024;

/**
 * Variables that make git operate on some other repository than the one in `cwd` (the list
 * printed by `git rev-parse --local-env-vars`, git 2.39). They leak in when the server is
 * started from a git hook or an editor's git integration, and would silently redirect every call,
 * so they are removed from the environment git sees.
 */
const REPO_LOCATING_VARS = [
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_CONFIG",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
  "GIT_OBJECT_DIRECTORY",
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_IMPLICIT_WORK_TREE",
  "GIT_GRAFT_FILE",
  "GIT_INDEX_FILE",
  "GIT_NO_REPLACE_OBJECTS",
  "GIT_REPLACE_REF_BASE",
  "GIT_PREFIX",
  "GIT_INTERNAL_SUPER_PREFIX",
  "GIT_SHALLOW_FILE",
  "GIT_COMMON_DIR",
];

/**
 * The environment for every git child: the server's environment minus repo-locating variables,
 * plus: no credential prompts (`GIT_TERMINAL_PROMPT=0`, a prompt would hang the call until the
 * timeout), no pager, and the C locale so messages we match on are English and stable.
 */
export function gitEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !REPO_LOCATING_VARS.includes(key)) env[key] = value;
  }
  return { ...env, GIT_TERMINAL_PROMPT: "0", GIT_PAGER: "cat", PAGER: "cat", LC_ALL: "C", LANGUAGE: "C" };
}

/**
 * Where hooks are looked for when the caller allows none: `/dev/null` is not a directory, so
 * `/dev/null/<hook>` never exists and git runs no hook (git checks each hook with access(2)).
 */
export const NO_HOOKS_PATH = "/dev/null";

/**
 * `-c` options put before every subcommand: no hooks from `hooksPath` (default
 * {@link NO_HOOKS_PATH}), and `core.fsmonitor=false`, because git would otherwise run the
 * program the repo's config names as its file-system monitor on every `status`, `diff` and
 * checkout. Command-line `-c` wins over every config file, including the repo's own.
 */
export function noRepoCodeConfig(hooksPath: string = NO_HOOKS_PATH): string[] {
  return ["-c", `core.hooksPath=${hooksPath}`, "-c", "core.fsmonitor=false"];
}

export interface GitOptions {
  /** Directory git runs in (absolute). */
  cwd: string;
  /** Kill git after this many ms; default {@link GIT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Return a non-zero exit instead of throwing. Spawn failures and timeouts still throw. */
  allowFailure?: boolean;
  /** Text written to git's stdin (e.g. a diff for `patch-id`); stdin is closed otherwise. */
  input?: string;
  /**
   * A directory of hooks git may run for this call (absolute), instead of none. Only for hooks a
   * repo's policy opted in to; the repo's own hooks directory is never passed as is.
   */
  hooksPath?: string;
}

export interface GitResult {
  /** Standard output without the final newline. */
  stdout: string;
  /** Standard error without the final newline. */
  stderr: string;
  exitCode: number;
}

/**
 * Run `git --no-pager -c core.hooksPath=/dev/null -c core.fsmonitor=false <args...>` in
 * `opts.cwd`, stdin closed (or fed `opts.input`): no hook or fsmonitor program of the repository
 * runs (see {@link noRepoCodeConfig}; `opts.hooksPath` allows the hooks in that directory).
 *
 * @returns stdout, stderr (final newline stripped) and the exit code.
 * @throws AppError `not_found` if `cwd` does not exist; `unavailable` if git is not installed
 *   or the call timed out (git and everything it started are SIGKILLed); `internal` for a
 *   non-zero exit unless `allowFailure` (message holds the subcommand, exit code and git's last
 *   stderr line; `details` holds args, exitCode, stderr).
 */
export async function git(args: string[], opts: GitOptions): Promise<GitResult> {
  const timeoutMs = opts.timeoutMs ?? GIT_TIMEOUT_MS;
  // In the git helper process, not forked from the server (see spawner.ts). It runs git in a
  // process group of its own, so a timeout kills what git started too (hooks, aliases, ssh,
  // credential helpers): killing only git leaves them holding the output pipes open.
  const result = await spawnInHelper({
    file: "git",
    args: ["--no-pager", ...noRepoCodeConfig(opts.hooksPath), ...args],
    cwd: opts.cwd,
    env: gitEnv(),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    timeoutMs,
    maxBuffer: MAX_BUFFER_BYTES,
  });
  const { stdout, stderr } = result;
  if (result.timedOut) throw new AppError("unavailable", `git ${subcommand(args)} timed out after ${timeoutMs} ms`, { args });
  if (result.overflow) throw new AppError("internal", `git ${subcommand(args)} wrote more than ${MAX_BUFFER_BYTES / 2 ** 20} MiB to ${result.overflow}`, { args });
  if (result.error) {
    // A missing cwd and a missing git binary both report ENOENT.
    if (!fs.existsSync(opts.cwd)) throw new AppError("not_found", `directory does not exist: ${opts.cwd}`);
    throw new AppError("unavailable", `could not run git: ${result.error.message}`, { args });
  }
  if (result.exitCode === null) throw new AppError("internal", `git ${subcommand(args)} was killed by ${result.signal ?? "a signal"}`, { args });
  if (result.exitCode !== 0 && !opts.allowFailure) {
    throw new GitFailure(args, result.exitCode, stderr);
  }
  return { stdout, stderr, exitCode: result.exitCode };
}

/** The subcommand in `args` for messages: the first word that is neither an option nor a `-c` value. */
function subcommand(args: string[]): string {
  return args.find((a, i) => !a.startsWith("-") && args[i - 1] !== "-c") ?? "";
}

/** Last non-empty line of git's stderr: usually the `fatal:`/`error:` line that explains it. */
export function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? "";
}

/** The `internal` AppError thrown for an unexpected non-zero git exit. */
export class GitFailure extends AppError {
  constructor(
    readonly args: string[],
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super("internal", `git ${subcommand(args)} failed (exit ${exitCode})${stderr ? `: ${lastLine(stderr)}` : ""}`, { args, exitCode, stderr });
  }
}
