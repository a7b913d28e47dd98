/**
 * The control channel between the bench driver and the Laneboard server child
 * (bench/lib/server-child.ts), over Node's fork IPC. Control only: the measured log path is the
 * server's Socket.IO port, exactly as the board uses it.
 *
 * Every request carries a numeric `seq`; the child answers each with one {@link Reply} of the
 * same `seq`. The first message the child sends is {@link Ready}.
 */

/** A lane the bench may start processes on: its id and worktree (the processes' cwd). */
export interface BenchLane {
  laneId: string;
  worktreePath: string;
}

export type Request =
  /** Create a real repo, register it, create `lanes` lanes (shell engine, worker `true`) and wait until each has finished. */
  | { seq: number; cmd: "setup"; lanes: number }
  /** `supervisor.start` a background process of a lane, stdin from its FIFO (the default lanes use). */
  | { seq: number; cmd: "start"; laneId: string; cwd: string; argv: string[] }
  /** `supervisor.kill`: resolves when the group is gone and the exit is recorded. */
  | { seq: number; cmd: "kill"; processId: string }
  /** `process.memoryUsage()` (bytes), for diagnostics; with `gc`, after a full garbage collection (needs --expose-gc). */
  | { seq: number; cmd: "memory"; gc?: boolean }
  /** Shut down: realtime, then the runtime (killing live process groups), then exit 0. */
  | { seq: number; cmd: "quit" };

export type Result =
  | { cmd: "setup"; lanes: BenchLane[]; dataDir: string }
  | { cmd: "start"; processId: string; pid: number; stdoutPath: string }
  | { cmd: "kill"; status: string }
  | { cmd: "memory"; usage: NodeJS.MemoryUsage }
  | { cmd: "quit" };

export type Reply = { seq: number; ok: true; result: Result } | { seq: number; ok: false; error: string };

export interface Ready {
  ready: true;
  /** The Socket.IO port (127.0.0.1). */
  port: number;
  /** The admin token, for the Socket.IO handshake (`auth: { token }`). */
  token: string;
  pid: number;
}
