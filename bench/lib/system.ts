/**
 * What a workload of the process benchmark needs from a process manager, so every workload is
 * written once and run unchanged against Laneboard (bench/lib/laneboard-system.ts) and PM2
 * (bench/lib/pm2-system.ts).
 */
import { fileURLToPath } from "node:url";

/** Absolute path of the program both systems run (bench/lib/printer.mjs). */
export const PRINTER = fileURLToPath(new URL("./printer.mjs", import.meta.url));

/**
 * Node flags for a printer with these arguments. `rate` printers (the steady producers of the
 * latency and chatty-memory workloads) run without V8's optimizing tiers: 50 identical processes
 * started at the same moment otherwise tier up in lockstep about 2.25 s in, and the compile
 * burst starves both cores for 100–200 ms, so every system's delivery latency measured the load
 * generator (seen for Laneboard and PM2 alike, and unchanged with the data dir on tmpfs).
 * Measured for Laneboard, 3 runs each: p99 165 ms → 81 ms, no late lines after the first 250 ms.
 * `flood` printers keep the JIT: their speed is the workload.
 */
export function printerNodeFlags(args: readonly string[]): string[] {
  return args[0] === "rate" ? ["--no-opt", "--no-sparkplug"] : [];
}

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
  /**
   * The lines just counted, without their newlines. `receivedAt` (epoch ms, measure.ts
   * `preciseNow`) is when the message holding them reached the client's handler, read before any
   * decoding, so a line's receipt time does not include the decoding of the lines before it in
   * the same message.
   */
  texts?(handle: string, lines: string[], receivedAt: number): void;
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
