/**
 * Starting a durable process: the fixed `sh` wrapper, command and cwd validation, env
 * redaction, and reading the exit file the wrapper leaves behind.
 *
 * The wrapper is `/bin/sh -c WRAPPER_SCRIPT sh <dir> <stdinMode> <cgroup.procs or ""> <argv...>`:
 * user input is only ever a positional argument (`"$@"`), never part of the script. Started
 * detached (setsid), it is the leader of its own process group and session, so the server can exit
 * without taking it along. It
 *   0. keeps the log as fd 3 for the command and sends its own stderr to /dev/null: the shell's
 *      job messages ("Killed" when the command dies of SIGKILL) are not the command's output. The
 *      command runs as `( "$@" ) 2>&3`: dash applies a subshell's redirection in the child only
 *      (a simple command's stays pushed in the parent while it waits and reports), and execs the
 *      subshell's last command without another fork;
 *      joins the process's cgroup when it has one (see process-scope.ts), before anything else, so
 *      every descendant is in it; when that write fails it runs on, found through its group,
 *   1. writes its pid to `<dir>/pid` (lets recovery find it if the server died before recording it),
 *      and reserves `<dir>/exit` with the placeholder (see 5),
 *   2. traps TERM/INT/HUP with a handler (not ignore, so the command gets default dispositions),
 *   3. takes stdin from `<dir>/stdin.fifo`, which it creates (the wrapper's fork+exec of mkfifo
 *      costs the server nothing, where spawning it from Node took ~10 ms per start) and opens
 *      read-write (writers may come and go without the command ever seeing EOF); or from /dev/null,
 *   4. runs the command in the foreground; a trapped signal is deferred until it ends,
 *   5. writes `$?` (128+N = killed by signal N) and a newline to `<dir>/exit` in one write(2),
 *      over the reserved placeholder in place (`1<>`: open read-write, no truncation, no growth).
 *      The placeholder ({@link EXIT_PLACEHOLDER}, spaces with no newline) is written at step 1,
 *      when the start was allowed because there was room: recording the exit then needs no new
 *      block, so it lands even when the command ended because the disk filled (with the old
 *      `> exit`, creating the file needed a block and failed with ENOSPC, and a process the
 *      server had reattached to, not being its parent, was recorded `lost`). Only a status ending
 *      in a newline counts (the newline is the last byte written), so a reader never takes the
 *      placeholder or a torn write for a status. No tmp file + `mv`: the fork and exec of mv cost
 *      ~1.4 ms of CPU per exit (median of 200, dash 0.5), on every kill's path.
 * Checked with dash 0.5 (Debian's /bin/sh): SIGTERM to the group while `sleep` runs → exit file
 * `143`; a child ignoring TERM keeps the wrapper waiting until it exits by itself.
 */
import { constants as fsc, promises as fsp, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { AppError } from "@/lib/errors";
import { spawnDetachedInHelper } from "../git/spawner";
import { childEnv } from "./child-env";
import { PROCESS_MARKER } from "./process-scope";
import { readCmdline, readProcStat, signalName } from "./procfs";

/**
 * What `<dir>/exit` holds from the wrapper's start until the status overwrites its first bytes:
 * 8 spaces, no newline (never a status), longer than any status (`255\n`, 4 bytes).
 */
export const EXIT_PLACEHOLDER = " ".repeat(8);

/**
 * The lines the current script shares with the one before it, verbatim and frozen like that one
 * (a running wrapper's argv must match it): a change goes into new lines, and the current script
 * then joins {@link EARLIER_WRAPPER_SCRIPTS}.
 */
const CGROUP_START = [
  'd=$1; mode=$2; cg=$3; shift 3',
  'exec 3>&2 2>/dev/null',
  `[ -z "$cg" ] || printf '%s\\n' "$$" > "$cg"`,
  "trap 'true' TERM INT HUP",
  'printf \'%s\\n\' "$$" > "$d/pid"',
];
const CGROUP_RUN = [
  'if [ "$mode" = fifo ] && { [ -p "$d/stdin.fifo" ] || mkfifo -m 600 "$d/stdin.fifo"; }; then exec 0<>"$d/stdin.fifo"; else exec 0</dev/null; fi',
  '( "$@" ) 2>&3 3>&-',
  "code=$?",
];

export const WRAPPER_SCRIPT = [
  ...CGROUP_START,
  `printf '${EXIT_PLACEHOLDER}' > "$d/exit"`,
  ...CGROUP_RUN,
  'printf \'%s\\n\' "$code" 1<>"$d/exit"',
  'exit "$code"',
].join("\n");

/** The start both earlier wrappers share, verbatim and frozen like them: they differ only in how the exit file is written. */
const BEFORE_CGROUPS_START = [
  'd=$1; mode=$2; shift 2',
  "trap 'true' TERM INT HUP",
  'printf \'%s\\n\' "$$" > "$d/pid"',
  'if [ "$mode" = fifo ] && { [ -p "$d/stdin.fifo" ] || mkfifo -m 600 "$d/stdin.fifo"; }; then exec 0<>"$d/stdin.fifo"; else exec 0</dev/null; fi',
  '"$@"',
  "code=$?",
];

/**
 * Wrapper scripts of earlier versions, verbatim (a running wrapper's argv holds the script it was
 * started with, so these must never follow later edits of {@link WRAPPER_SCRIPT}), still
 * recognised by {@link findWrapper} so a wrapper started before an upgrade is found after it.
 * - until 2026-12-05: the exit file created when the command ends (`> exit`), not reserved at start.
 * - until 2026-12-04: no cgroup argument (`$3`).
 * - until 2026-11-21: the exit file through a tmp file + `mv`.
 */
export const EARLIER_WRAPPER_SCRIPTS: readonly string[] = [
  [...CGROUP_START, ...CGROUP_RUN, 'printf \'%s\\n\' "$code" > "$d/exit"', 'exit "$code"'].join("\n"),
  [...BEFORE_CGROUPS_START, 'printf \'%s\\n\' "$code" > "$d/exit"', 'exit "$code"'].join("\n"),
  [...BEFORE_CGROUPS_START, 'printf \'%s\\n\' "$code" > "$d/exit.tmp" && mv -f "$d/exit.tmp" "$d/exit"', 'exit "$code"'].join("\n"),
];

export type StdinMode = "fifo" | "null";

/** Files of one process under `<dataDir>/processes/<id>/`. */
export interface ProcessPaths {
  dir: string;
  stdout: string;
  stderr: string;
  fifo: string;
  exit: string;
  pid: string;
  /** The path of the process's cgroup, when it has one (written before the start). */
  cgroup: string;
  /** Tailer bookkeeping (offsets, line counts, retention marks); see log-files.ts. */
  state: string;
  stdoutIdx: string;
  stderrIdx: string;
  /** Where each run of one stream begins: the order across stdout and stderr (log-files.ts). */
  order: string;
}

export function processPaths(dataDir: string, processId: string): ProcessPaths {
  const dir = path.join(dataDir, "processes", processId);
  const meta = path.join(dir, "meta");
  return {
    dir,
    stdout: path.join(dir, "stdout.log"),
    stderr: path.join(dir, "stderr.log"),
    fifo: path.join(dir, "stdin.fifo"),
    exit: path.join(dir, "exit"),
    pid: path.join(dir, "pid"),
    cgroup: path.join(dir, "cgroup"),
    // In a subdirectory so our own bookkeeping writes do not wake the directory watcher.
    state: path.join(meta, "state"),
    stdoutIdx: path.join(meta, "stdout.idx"),
    stderrIdx: path.join(meta, "stderr.idx"),
    order: path.join(meta, "order"),
  };
}

/**
 * Validate `cwd` (exists, is a directory, inside `confineTo` after resolving symlinks).
 * @returns the real path of cwd
 * @throws AppError invalid_input (missing / not a directory), outside_worktree
 */
export async function checkCwd(cwd: string, confineTo?: string): Promise<string> {
  let real: string;
  try {
    real = await fsp.realpath(cwd);
    if (!(await fsp.stat(real)).isDirectory()) throw new Error("not a directory");
  } catch {
    throw new AppError("invalid_input", `cwd does not exist or is not a directory: ${cwd}`, { field: "cwd" });
  }
  if (confineTo !== undefined) {
    const root = await fsp.realpath(confineTo).catch(() => {
      throw new AppError("invalid_input", `confineTo does not exist: ${confineTo}`, { field: "confineTo" });
    });
    if (real !== root && !real.startsWith(root.endsWith(path.sep) ? root : root + path.sep)) {
      throw new AppError("outside_worktree", `cwd ${cwd} is outside ${confineTo}`, { field: "cwd" });
    }
  }
  return real;
}

/**
 * Resolve argv[0] the way execvp does (a name with a slash is relative to cwd, otherwise each
 * PATH entry in order) and check it is an executable regular file, so a missing command is a
 * clear error before anything is spawned.
 * @throws AppError command_not_found
 */
export async function resolveCommand(command: string, cwd: string, envPath: string | undefined): Promise<string> {
  const candidates = command.includes("/")
    ? [path.resolve(cwd, command)]
    : (envPath ?? "/usr/local/bin:/usr/bin:/bin").split(":").map((dir) => path.resolve(cwd, dir || ".", command));
  for (const file of candidates) {
    // A synchronous stat that returns nothing for a missing file: a PATH has a dozen entries and
    // most miss, and each miss as an async call was a thread-pool round trip and an exception
    // with its stack trace (~0.3 ms of the server's main thread per miss, in a CPU profile).
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) continue;
    try {
      await fsp.access(file, fsc.X_OK);
      return file;
    } catch {
      // not executable: try the next PATH entry
    }
  }
  throw new AppError("command_not_found", `command not found or not executable: ${command}`, { command });
}


export interface SpawnedWrapper {
  pid: number;
  /** OS start time of the wrapper (proc(5) field 22), read before it could be reaped; null if unreadable. */
  startTime: string | null;
  /**
   * Resolves with the wrapper's status when it ends; with null when that cannot be known here
   * (the git helper that parented it died first: the wrapper runs on). Never rejects.
   */
  done: Promise<{ exitCode: number | null; signal: string | null } | null>;
}

/**
 * Spawn the wrapper detached with stdout/stderr appended to the log files, in `cgroup` when given,
 * with the environment marker {@link PROCESS_MARKER}. The environment is ./child-env.ts
 * `childEnv`: the server's without its withheld secrets (except `secretEnv`), then `env`.
 *
 * Spawned by the git helper process (server/git/spawner.ts), not by the server: a fork of the
 * server blocked its main thread ~20 ms per start (its page tables are large), the largest single
 * cost of starting a lane. The wrapper is the helper's child; being detached, it survives both.
 * @throws AppError unavailable when the OS refuses to spawn (or the helper cannot be reached)
 */
export async function spawnWrapper(
  p: ProcessPaths,
  argv: string[],
  opts: { cwd: string; env: Record<string, string>; secretEnv?: readonly string[]; stdin: StdinMode; processId: string; cgroup: string | null },
): Promise<SpawnedWrapper> {
  const cgroupProcs = opts.cgroup ? path.join(opts.cgroup, "cgroup.procs") : "";
  return spawnDetachedInHelper({
    file: "/bin/sh",
    args: ["-c", WRAPPER_SCRIPT, "sh", p.dir, opts.stdin, cgroupProcs, ...argv],
    cwd: opts.cwd,
    env: childEnv({ ...opts.env, [PROCESS_MARKER]: opts.processId }, opts.secretEnv),
    stdout: p.stdout,
    stderr: p.stderr,
  });
}

export interface RecordedExit {
  exitCode: number | null;
  signal: string | null;
  /** When the exit file was written (its mtime). */
  at: Date;
}

/**
 * Read `<dir>/exit`: a status and a newline, then what is left of the placeholder (spaces) when
 * it was written in place. A status above 128 whose remainder is a signal number is reported as
 * that signal (sh convention: the command was killed by it), exit code null.
 * @returns null when the file does not exist (yet), is unreadable, or does not hold a status
 *   ended by a newline (only the placeholder: not written yet, or the wrapper was killed before
 *   writing)
 */
export function readExitFile(file: string): RecordedExit | null {
  try {
    const m = /^(\d+)\n *$/.exec(readFileSync(file, "utf8"));
    if (!m) return null;
    const code = Number(m[1]);
    const at = statSync(file).mtime;
    const sig = code > 128 ? signalName(code - 128) : null;
    return sig ? { exitCode: null, signal: sig, at } : { exitCode: code, signal: null, at };
  } catch {
    return null;
  }
}

/**
 * Find a running wrapper through the pid file it writes at start, and prove it is ours: its
 * argv must be this wrapper for this very process directory (`/bin/sh -c <script> sh <dir> …`).
 * @returns its pid and OS start time, or null
 */
export function findWrapper(p: ProcessPaths): { pid: number; startTime: string } | null {
  let pid: number;
  try {
    pid = Number(readFileSync(p.pid, "utf8").trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const argv = readCmdline(pid);
  const st = readProcStat(pid);
  if (!argv || !st || st.state === "Z" || argv[0] !== "/bin/sh" || (argv[2] !== WRAPPER_SCRIPT && !EARLIER_WRAPPER_SCRIPTS.includes(argv[2]!)) || argv[4] !== p.dir) return null;
  return { pid, startTime: st.startTime };
}
