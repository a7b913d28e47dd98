/**
 * What the supervisor knows of one process it follows (`Tracked`) and how that record is built
 * from its row: the process's identity (pid, process group, OS start time), everything it started
 * (its {@link ProcessScope}), its log pipeline ({@link ProcLog}), its kill state and the promise
 * of its exit. One record per followed process, for a process started here and for one reattached
 * after a restart alike.
 */
import { existsSync } from "node:fs";
import type { ProcessExit } from "../events/event-bus";
import { emptyStreamState, readStateFile } from "./log-files";
import { ProcLog } from "./proc-log";
import { type ProcessScope, readCgroupFile } from "./process-scope";
import { type StdinMode, processPaths } from "./wrapper";
import { type ProcessRow, parseProgram } from "./views";

/** The wrapper's own status as the OS reported it to its parent (started here only). */
export type WrapperStatus = { exitCode: number | null; signal: string | null };

export interface Tracked {
  id: string;
  laneId: string | null;
  role: string;
  pid: number | null;
  pgid: number | null;
  startTime: string | null;
  /** Everything the process started: its group, its cgroup (see process-scope.ts). */
  scope: ProcessScope;
  /** argv[0] of the command (for matching a kernel OOM record by name). */
  program: string | null;
  log: ProcLog;
  /**
   * Set while the wrapper's end will be told (it was started here; its parent is the git helper):
   * resolves with its own status when it ends, or null when that will not be told (the helper
   * died; the supervisor then follows it as a reattached process, and clears this).
   */
  wrapperDone: Promise<WrapperStatus | null> | null;
  /** Resolves once the pid / start time are persisted. */
  ready: Promise<void>;
  exit: Promise<ProcessExit>;
  resolveExit: (e: ProcessExit) => void;
  ending: boolean;
  killRequested: boolean;
  sigkillSent: boolean;
  killing: Promise<ProcessExit> | null;
  stdinChain: Promise<void>;
  syncedOffsets: string;
  /** When the wrapper started (ms since epoch; adoption time if unknown). */
  startedAtMs: number;
  stdin: StdinMode;
}

export interface TrackOptions {
  dataDir: string;
  /**
   * pid and start time identify our wrapper right now (only then may a deleted log be reopened
   * through `/proc/<pid>/fd`: a reused pid would be someone else's).
   */
  verified: boolean;
  /** How the process reads stdin; unknown (reattached): a FIFO if its file exists. */
  stdin?: StdinMode;
  /** Where the log pipeline's warnings go. */
  warn: (message: string) => void;
}

/**
 * The record of a process to follow, its log opened where its state file (or, without one, its
 * row) says publishing stopped. Does not start tailing: the caller registers it.
 */
export function newTracked(row: ProcessRow, pid: number | null, startTime: string | null, wrapperDone: Tracked["wrapperDone"], ready: Promise<void>, o: TrackOptions): Tracked {
  const paths = processPaths(o.dataDir, row.id);
  const stdin = o.stdin ?? (existsSync(paths.fifo) ? "fifo" : "null");
  const initial = readStateFile(paths.state) ?? { stdout: emptyStreamState(row.stdoutOffset), stderr: emptyStreamState(row.stderrOffset) };
  const log = new ProcLog(row.id, row.laneId, paths, initial, o.warn, o.verified ? pid : null);
  let resolveExit!: (e: ProcessExit) => void;
  const exit = new Promise<ProcessExit>((r) => (resolveExit = r));
  const scope: ProcessScope = { processId: row.id, pgid: pid, cgroup: readCgroupFile(paths.cgroup), trustPgid: o.verified };
  return {
    id: row.id, laneId: row.laneId, role: row.role, pid, pgid: pid, startTime, scope, program: parseProgram(row.command), log, wrapperDone, ready, exit, resolveExit,
    ending: false, killRequested: row.killRequestedAt !== null, sigkillSent: false, killing: null, stdinChain: Promise.resolve(), syncedOffsets: "",
    startedAtMs: row.startedAt?.getTime() ?? Date.now(), stdin,
  };
}
