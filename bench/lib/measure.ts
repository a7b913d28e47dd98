/**
 * Measuring helpers for the process benchmark: order statistics, a bounded wait, and readings of
 * another process from Linux `/proc` (CPU seconds, RSS, process-tree liveness), so the Laneboard
 * server and the PM2 daemon are measured the same way from outside.
 *
 * Formats: proc(5). `/proc/<pid>/stat` fields are counted after the last `)` (the command name
 * may hold spaces); utime/stime are fields 14/15 in clock ticks; `/proc/<pid>/status` VmRSS is kB.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import os from "node:os";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Median (lower middle for an even count); NaN for no values. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** Nearest-rank percentile, `p` in [0, 1]; NaN for no values. */
export function percentile(xs: readonly number[] | Float64Array, p: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

/**
 * Poll `pred` every `everyMs` until it holds.
 * @throws Error naming `what` after `timeoutMs`
 */
export async function waitFor(pred: () => boolean, what: string, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  pid: number;
  state: string;
  ppid: number;
  pgid: number;
  cpuTicks: number;
  /** Field 22: start time in clock ticks since boot (identifies the process with its pid). */
  startTime: string;
}

function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // After ") ": field N of proc(5) is index N - 3.
  return { pid, state: f[0]!, ppid: Number(f[1]), pgid: Number(f[2]), cpuTicks: Number(f[11]) + Number(f[12]), startTime: f[19]! };
}

/** User + system CPU seconds a process has used so far (all its threads). @throws Error if it is gone */
export function cpuSeconds(pid: number): number {
  const st = readStat(pid);
  if (!st) throw new Error(`process ${pid} is gone`);
  return st.cpuTicks / CLK_TCK;
}

/**
 * User + system CPU seconds of a Laneboard server `pid` and of its git helper
 * (server/git/git-helper.mjs: the server's git calls and lane-wrapper forks run there, so the
 * server's own work is both). Their children (git, lanes) are not counted, as for the server
 * alone before the helper took them over. @throws Error if the server is gone
 */
export function serverCpuSeconds(pid: number): number {
  let sum = cpuSeconds(pid);
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(Number(d));
    if (st?.ppid !== pid) continue;
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${d}/cmdline`, "latin1");
    } catch {
      continue;
    }
    if (cmd.includes("git-helper.mjs")) sum += st.cpuTicks / CLK_TCK;
  }
  return sum;
}

/**
 * CPU seconds the whole machine has spent busy so far (user, nice, system, irq, softirq of every
 * CPU; idle, iowait and steal excluded), from the first line of /proc/stat (proc(5)).
 */
export function machineBusySeconds(): number {
  const f = readFileSync("/proc/stat", "latin1").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) / CLK_TCK;
}

/** Resident set size in bytes. @throws Error if the process is gone */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Every live (non-zombie) process. */
function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const name of readdirSync("/proc")) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readStat(Number(name));
    if (st && st.state !== "Z") out.push(st);
  }
  return out;
}

/** `pid:starttime` of a live process (null if gone): compare before signalling a remembered pid. */
export function identity(pid: number): string | null {
  const st = readStat(pid);
  return st && st.state !== "Z" ? `${pid}:${st.startTime}` : null;
}

/** Whether any live process is in group `pgid`. */
export function groupAlive(pgid: number): boolean {
  return allStats().some((s) => s.pgid === pgid);
}

/** `pid` and all its live descendants. */
export function processTree(pid: number): number[] {
  const all = allStats();
  const tree = all.some((s) => s.pid === pid) ? [pid] : [];
  for (let i = 0; i < tree.length; i++) for (const s of all) if (s.ppid === tree[i]) tree.push(s.pid);
  return tree;
}

/** Whether any of `pids` is still alive (zombies count as gone). */
export function anyAlive(pids: readonly number[]): boolean {
  return pids.some((p) => {
    const st = readStat(p);
    return st !== null && st.state !== "Z";
  });
}

/** Count newline bytes in a string. */
export function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i !== -1; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

/** Wall clock in epoch ms with sub-ms precision (the same clock the printer stamps lines with). */
export const preciseNow = () => performance.timeOrigin + performance.now();

interface QuietOptions {
  windowMs?: number;
  maxShare?: number;
  timeoutMs?: number;
}

/**
 * Wait until `busySeconds()` (a CPU-seconds counter) grew by less than `maxShare` of `cores`
 * cores over a `windowMs` window, or `timeoutMs` passed. @returns whether that happened
 */
async function waitQuiet(busySeconds: () => number, cores: number, o: Required<QuietOptions>): Promise<boolean> {
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline) {
    const b0 = busySeconds();
    await sleep(o.windowMs);
    if ((busySeconds() - b0) / ((o.windowMs / 1000) * cores) < o.maxShare) return true;
  }
  return false;
}

/**
 * Wait until process `pid` used under `maxShare` (default 5 %) of one core over a `windowMs`
 * window (it has finished background work, e.g. Laneboard's freshness refreshes after lanes were
 * created), or `timeoutMs` (60 s) passed.
 * @returns whether it became idle
 */
export function waitIdle(pid: number, o: QuietOptions = {}): Promise<boolean> {
  return waitQuiet(() => cpuSeconds(pid), 1, { windowMs: 500, maxShare: 0.05, timeoutMs: 60_000, ...o });
}

/**
 * Wait until the whole machine (every core, /proc/stat) was busy less than `maxShare` (default
 * 10 %) of its capacity over a `windowMs` window, or `timeoutMs` (30 s) passed. Catches what
 * {@link waitIdle} of one server cannot: the other system's teardown of its previous workload (its
 * daemon, its exiting processes) and anything else running here.
 * @returns whether the machine became idle
 */
export function waitMachineIdle(o: QuietOptions = {}): Promise<boolean> {
  return waitQuiet(machineBusySeconds, os.cpus().length, { windowMs: 500, maxShare: 0.1, timeoutMs: 30_000, ...o });
}
