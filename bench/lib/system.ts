/**
 * What a workload of the process benchmark needs from a process manager, so every workload is
 * written once and run unchanged against Laneboard (bench/lib/laneboard-system.ts) and PM2
 * (bench/lib/pm2-system.ts).
 */
import { fileURLToPath } from "node:url";

/** Absolute path of the program both systems run (bench/lib/printer.mjs). */
export const PRINTER = fileURLToPath(new URL("./printer.mjs", import.meta.url));

export interface Started {
  /** The system's id for the process (Laneboard process id, PM2 app name). */
  handle: string;
  /** Pid of the process the system started (Laneboard: the group-leading wrapper; PM2: the app). */
  pid: number;
  /** The file the system persists the process's stdout to. */
  logPath: string;
}

/**
 * Where a system delivers output lines for the current run. `handles` limits it to the run's
 * processes; `texts` is called (after `count`, with the same lines) only when set (latency runs).
 */
export interface Receiver {
  handles: ReadonlySet<string>;
  /** `n` complete lines of process `handle` arrived at the client (bench process). */
  count(handle: string, n: number): void;
  /** The lines just counted, without their newlines. */
  texts?(handle: string, lines: string[]): void;
  /** The system reported `n` lines it did not deliver to this client (Laneboard backpressure). */
  dropped(handle: string, n: number): void;
}

export interface BenchSystem {
  readonly name: "Laneboard" | "PM2";
  /** The process whose CPU time and RSS are the system's cost (Laneboard server, PM2 daemon). */
  readonly serverPid: number;
  /** How many slots (lanes) processes can be started in; slot `i` is used modulo this. */
  readonly slots: number;
  /** Start `node printer.mjs <args...>`; resolves with the pid as the system reports it. */
  start(slot: number, args: string[]): Promise<Started>;
  /** Ask the system to kill the process; resolves when the system says it is done. */
  kill(handle: string): Promise<void>;
  setReceiver(receiver: Receiver | null): void;
  /** The server's `process.memoryUsage()`, optionally after a full GC (diagnostics; Laneboard only). */
  memory?(gc: boolean): Promise<NodeJS.MemoryUsage>;
  /** Forget ended processes between runs (not timed). */
  reset(): Promise<void>;
  /** Stop everything the system started, and the system itself. Never throws. */
  close(): Promise<void>;
}
