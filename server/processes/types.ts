/** Options and inputs of the process supervisor's public API (see supervisor.ts). */
import type { EventBus } from "../events/event-bus";
import type { EventLog } from "../events/event-log";
import type { Db } from "../store/db";
import type { StdinMode } from "./wrapper";

export interface SupervisorOptions {
  db: Db;
  events: EventLog;
  bus: EventBus;
  dataDir: string;
  /**
   * This node's id (docs/scale-out.md), written to the rows of the processes it starts. Nodes on
   * one database share the Process table: a supervisor reattaches and keeps retention over its
   * own rows only (its node's, or, for rows from before nodes existed, those in its data dir).
   * Default: none (every row is this supervisor's; tests of the supervisor alone).
   */
  nodeId?: string;
  /** Default SIGTERM → SIGKILL grace period (ms). */
  killGraceMs: number;
  /**
   * `auto` (default): a cgroup per process where the kernel lets the server make one, so even a
   * process that leaves its group is found; `off`: process groups and the environment marker only.
   */
  cgroups?: "auto" | "off";
  logMaxBytesPerProcess: number;
  logMaxBytesTotal: number;
  /**
   * Tuning, with defaults: first wake-up → flush delay (0: flush in the same event-loop turn,
   * after every wake-up already queued; measured p50 delivery 2.5 ms against 9.6 ms at 10 ms).
   */
  flushDelayMs?: number;
  /** How long a partial last line must stay unchanged before it is shown (250 ms; bus `process.partial`). */
  partialDelayMs?: number;
  /** Safety poll of log files (1000 ms). */
  logPollMs?: number;
  /** Liveness poll for reattached processes (200 ms). */
  exitPollMs?: number;
  /** Retention check period (2000 ms). */
  retentionIntervalMs?: number;
  /** Offsets are copied to the database rows this often (5000 ms); the state file is the source of truth. */
  dbSyncMs?: number;
}

export interface StartProcessSpec {
  laneId: string | null;
  role: "worker" | "check" | "background";
  argv: string[];
  cwd: string;
  /**
   * Overrides on top of the server's environment, which comes without its model API keys and
   * Laneboard's secrets (./child-env.ts); secret-looking values are redacted when stored/shown.
   */
  env?: Record<string, string>;
  /** Withheld server variables this process may inherit after all (an agent engine's key; ./child-env.ts). */
  secretEnv?: readonly string[];
  /** cwd must be inside this directory (after resolving symlinks). */
  confineTo?: string;
  /** stdin from a FIFO the server can write to (default), or from /dev/null. */
  stdin?: StdinMode;
}
