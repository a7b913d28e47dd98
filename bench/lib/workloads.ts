/**
 * The four workloads of `npm run bench:processes`, each one run against one {@link BenchSystem}.
 * Every wait is bounded; every process a run starts has ended (or is killed) when it returns.
 *
 * Clocks: printers stamp lines with epoch ms of `performance.timeOrigin + performance.now()`, and
 * the bench compares with the same expression ({@link preciseNow}); both read the same system
 * clock on this machine.
 */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { anyAlive, cpuSeconds, groupAlive, identity, machineBusySeconds, percentile, preciseNow, processTree, rssBytes, sleep, waitFor } from "./measure";
import type { BenchSystem, Receiver, Started } from "./system";

/** A run is over when nothing more arrived for this long after the printers finished (ms). */
const QUIET_MS = 30_000;
/** Go file → start: long enough for every printer's 20 ms poll to see the go file (ms). */
const GO_DELAY_MS = 200;

interface Written {
  lines: number;
  bytes: number;
  /** Lines written by printer i. */
  perPrinter: number[];
  /** CPU seconds the printers used from the start to their end, summed. */
  cpuSec: number;
  /** The printers (held alive until {@link finish} releases them): pid and {@link identity}. */
  printers: { pid: number; id: string | null }[];
}

/** Start `n` printers one after another; slot i gets `args(i)`. */
async function startAll(sys: BenchSystem, n: number, args: (i: number) => string[]): Promise<Started[]> {
  const started: Started[] = [];
  for (let i = 0; i < n; i++) started.push(await sys.start(i, args(i)));
  return started;
}

interface Launched {
  started: Started[];
  /** Count file of printer i (bench/lib/printer.mjs). */
  files: string[];
  /** Let every printer go at the same moment; returns that moment (epoch ms). */
  go(): number;
}

/**
 * Start `n` printers of `mode` (`flood` / `rate`, with `param` = max lines / lines per second)
 * and wait until every one has booted and waits for the go file.
 */
async function launch(sys: BenchSystem, dir: string, mode: "flood" | "rate", n: number, durationMs: number, param: number): Promise<Launched> {
  const base = path.join(dir, `${mode}-${sys.name}-${n}-${Date.now()}`);
  const goFile = `${base}.go`;
  const files = Array.from({ length: n }, (_, i) => `${base}-${i}.count`);
  const started = await startAll(sys, n, (i) => [mode, goFile, String(durationMs), String(param), files[i]!]);
  await waitFor(() => files.every((f) => existsSync(`${f}.ready`)), `${n} printers to boot`, 120_000, 20);
  return {
    started,
    files,
    go() {
      const startAt = Date.now() + GO_DELAY_MS;
      // Atomically: a printer must never read a half-written file.
      writeFileSync(`${goFile}.tmp`, String(startAt));
      renameSync(`${goFile}.tmp`, goFile);
      return startAt;
    },
  };
}

/** Wait until every printer wrote its count file; their sum. */
async function writtenBy(files: string[], timeoutMs: number): Promise<Written> {
  await waitFor(() => files.every((f) => existsSync(f)), "every printer to finish", timeoutMs, 20);
  const total: Written = { lines: 0, bytes: 0, perPrinter: [], cpuSec: 0, printers: [] };
  for (const f of files) {
    const [lines, bytes, cpuMicros, pid] = readFileSync(f, "utf8").trim().split(" ").map(Number);
    total.lines += lines!;
    total.bytes += bytes!;
    total.cpuSec += cpuMicros! / 1e6;
    total.perPrinter.push(lines!);
    total.printers.push({ pid: pid!, id: identity(pid!) });
  }
  return total;
}

/** Counting receiver for `started`; `onTexts` also gets the lines (latency runs). */
function counter(started: Started[], onTexts?: (lines: string[], receivedAt: number) => void) {
  const r = {
    received: 0,
    dropped: 0,
    lastAt: 0,
    perHandle: new Map<string, number>(),
    /** Lines received beyond what printer i wrote (delivered twice), summed over printers. */
    extra(written: Written): number {
      return started.reduce((n, s, i) => n + Math.max(0, (r.perHandle.get(s.handle) ?? 0) - written.perPrinter[i]!), 0);
    },
    receiver: {
      handles: new Set(started.map((s) => s.handle)),
      count: (h: string, n: number) => {
        r.received += n;
        r.perHandle.set(h, (r.perHandle.get(h) ?? 0) + n);
        r.lastAt = preciseNow();
      },
      dropped: (_h: string, n: number) => {
        r.dropped += n;
        r.lastAt = preciseNow();
      },
      ...(onTexts ? { texts: (_h: string, lines: string[], receivedAt: number) => onTexts(lines, receivedAt) } : {}),
    } satisfies Receiver,
  };
  return r;
}

/** Wait until `done()` or nothing arrived for {@link QUIET_MS}; bounded by `maxMs`. */
async function untilDelivered(done: () => boolean, lastAt: () => number, maxMs: number): Promise<void> {
  const start = preciseNow();
  while (!done() && preciseNow() - Math.max(lastAt(), start) < QUIET_MS && preciseNow() - start < maxMs) await sleep(5);
}

/** Sum of the sizes of the log files once it equals `bytes` (or after 10 s: what it is then). */
async function persistedBytes(started: Started[], bytes: number): Promise<number> {
  const size = () => started.reduce((n, s) => n + (existsSync(s.logPath) ? statSync(s.logPath).size : 0), 0);
  await waitFor(() => size() === bytes, "log files to hold every byte", 10_000, 20).catch(() => undefined);
  return size();
}

/**
 * Release the run's held printers (bench/lib/printer.mjs, "Hold"), wait for the run's processes
 * to end, then let the system forget them. A printer is signalled only while it is still the
 * process that reported its pid.
 */
async function finish(sys: BenchSystem, started: Started[], written?: Written): Promise<void> {
  sys.setReceiver(null);
  for (const { pid, id } of written?.printers ?? []) {
    if (id === null || identity(pid) !== id) continue;
    try {
      process.kill(pid, "SIGUSR2");
    } catch {
      // it has just ended
    }
  }
  await waitFor(() => !anyAlive(started.map((s) => s.pid)), "the run's processes to exit", 60_000, 20);
  await sleep(200); // let the system record the exits before the next run measures anything
  await sys.reset();
}

export interface ThroughputResult {
  procs: number;
  /** Lines received by the client ÷ (last receipt − common start), lines/s. */
  linesPerSec: number;
  /** Server CPU (user+system) from the common start to the last receipt ÷ lines received × 1e6. */
  cpuSecPerMLines: number;
  written: number;
  received: number;
  /** Lines received more often than written (should be 0). */
  extra: number;
  dropped: number;
  writtenBytes: number;
  persistedBytes: number;
  elapsedMs: number;
  /**
   * CPU seconds from the common start to the last receipt: the server's, the client's (the bench
   * process, whose only work then is receiving), the printers' (start to their end), and the whole
   * machine's (which also holds the wrappers, the kernel's work for them and other tenants').
   */
  cpu: { serverSec: number; clientSec: number; printersSec: number; machineSec: number };
}

/** N printers flood for `durationMs` (or until `maxLinesTotal / procs` lines each). */
export async function throughputRun(sys: BenchSystem, dir: string, o: { procs: number; durationMs: number; maxLinesTotal: number }): Promise<ThroughputResult> {
  const { started, files, go } = await launch(sys, dir, "flood", o.procs, o.durationMs, Math.ceil(o.maxLinesTotal / o.procs));
  const c = counter(started);
  sys.setReceiver(c.receiver);
  const startAt = go();
  await sleep(startAt - Date.now());
  const cpu0 = cpuSeconds(sys.serverPid);
  const client0 = process.cpuUsage();
  const machine0 = machineBusySeconds();
  const written = await writtenBy(files, o.durationMs + 120_000);
  await untilDelivered(() => c.received + c.dropped >= written.lines, () => c.lastAt, 300_000);
  const cpu1 = cpuSeconds(sys.serverPid);
  const client = process.cpuUsage(client0);
  const machineSec = machineBusySeconds() - machine0;
  const elapsedMs = c.lastAt - startAt;
  await finish(sys, started, written);
  if (c.received === 0) throw new Error(`${sys.name}: no line of ${written.lines} reached the client`);
  return {
    procs: o.procs,
    linesPerSec: c.received / (elapsedMs / 1000),
    cpuSecPerMLines: ((cpu1 - cpu0) / c.received) * 1e6,
    written: written.lines,
    received: c.received,
    extra: c.extra(written),
    dropped: c.dropped,
    writtenBytes: written.bytes,
    persistedBytes: await persistedBytes(started, written.bytes),
    elapsedMs,
    cpu: { serverSec: cpu1 - cpu0, clientSec: (client.user + client.system) / 1e6, printersSec: written.cpuSec, machineSec },
  };
}

export interface LatencyResult {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  written: number;
  received: number;
  extra: number;
  dropped: number;
  /** Server CPU seconds per second of the run (1 = one core busy). */
  serverCpuShare: number;
  /** [ms since the start (by write time, 250 ms slots), lines later than LATE_MS written then]. */
  lateSlots: [number, number][];
}

/** A line delivered later than this is counted in {@link LatencyResult.lateSlots} (ms). */
export const LATE_MS = 100;

/** `procs` printers at `rate` lines/s each for `durationMs`; receipt − write time per line. */
export async function latencyRun(sys: BenchSystem, dir: string, o: { procs: number; rate: number; durationMs: number; dumpFile?: string }): Promise<LatencyResult> {
  const { started, files, go } = await launch(sys, dir, "rate", o.procs, o.durationMs, o.rate);
  const latencies: number[] = [];
  /** With `dumpFile`: every sample as [write time, receipt time], ms since the start. */
  const samples: number[] = [];
  /** Lines later than {@link LATE_MS}, per 250 ms of the run (by write time): shows periodic stalls. */
  const late = new Map<number, number>();
  let startAt = Infinity;
  const c = counter(started, (lines, at) => {
    for (const l of lines) {
      const written = Number.parseFloat(l);
      latencies.push(at - written);
      if (o.dumpFile) samples.push(written - startAt, at - startAt);
      if (at - written > LATE_MS) {
        const slot = Math.floor((written - startAt) / 250) * 250;
        late.set(slot, (late.get(slot) ?? 0) + 1);
      }
    }
  });
  sys.setReceiver(c.receiver);
  // With `dumpFile`: the client's (this process's) GC pauses too, as [start, duration] ms.
  const gcPauses: number[] = [];
  const gcObserver = o.dumpFile ? new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push(performance.timeOrigin + e.startTime - startAt, e.duration);
  }) : null;
  gcObserver?.observe({ entryTypes: ["gc"] });
  startAt = go();
  await sleep(startAt - Date.now());
  const cpu0 = cpuSeconds(sys.serverPid);
  const written = await writtenBy(files, o.durationMs + 60_000);
  await untilDelivered(() => c.received + c.dropped >= written.lines, () => c.lastAt, 60_000);
  gcObserver?.disconnect();
  const serverCpuShare = (cpuSeconds(sys.serverPid) - cpu0) / ((Date.now() - startAt) / 1000);
  await finish(sys, started, written);
  if (c.received === 0) throw new Error(`${sys.name}: no line of ${written.lines} reached the client`);
  if (o.dumpFile) writeFileSync(o.dumpFile, JSON.stringify({ startAt, samples, clientGc: gcPauses }));
  return {
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: percentile(latencies, 1),
    written: written.lines,
    received: c.received,
    extra: c.extra(written),
    dropped: c.dropped,
    serverCpuShare,
    lateSlots: [...late].sort((a, b) => a[0] - b[0]),
  };
}

export interface SpawnKillResult {
  /** Request → pid, per start (ms). */
  spawnMs: number[];
  /** Kill request → the system's answer and no member of the process group alive (ms). */
  killMs: number[];
  /** Kill request → the system's answer alone (ms). */
  killReplyMs: number[];
}

/**
 * Start `count` idle printers one after another (`gapMs` apart), let them run, then kill them one
 * after another (`gapMs` apart).
 * "Gone" is checked from /proc: the process tree seen before the kill has no live member and
 * the process group (each system starts a process as the leader of its own group) is empty.
 */
export async function spawnKillRun(sys: BenchSystem, o: { count: number; gapMs: number; settleMs: number }): Promise<SpawnKillResult> {
  const spawnMs: number[] = [];
  const started: Started[] = [];
  for (let i = 0; i < o.count; i++) {
    const t0 = preciseNow();
    started.push(await sys.start(i, ["idle"]));
    spawnMs.push(preciseNow() - t0);
    // Untimed: let the new process boot, so the next start is not measured on a CPU busy with it.
    await sleep(o.gapMs);
  }
  await sleep(o.settleMs);
  const killMs: number[] = [];
  const killReplyMs: number[] = [];
  for (const s of started) {
    const tree = processTree(s.pid);
    const t0 = preciseNow();
    const replied = sys.kill(s.handle).then(() => preciseNow());
    let treeGoneAt = 0;
    const watching = waitFor(() => !anyAlive(tree), `process tree of ${s.pid} to end`, 30_000, 1).then(() => (treeGoneAt = preciseNow()));
    const [replyAt] = await Promise.all([replied, watching]);
    // Verified after the clock was read, so the (slower) full /proc scan is not timed.
    if (groupAlive(s.pid)) {
      await waitFor(() => !groupAlive(s.pid), `group ${s.pid} to end`, 30_000, 1);
      treeGoneAt = preciseNow();
    }
    killReplyMs.push(replyAt - t0);
    killMs.push(Math.max(replyAt, treeGoneAt) - t0);
    await sleep(o.gapMs);
  }
  await sys.reset();
  return { spawnMs, killMs, killReplyMs };
}

export interface MemoryResult {
  /** Peak server RSS with `lanes` idle processes (bytes). */
  idleRss: number;
  /** Peak server RSS while `lanes` processes print `rate` lines/s each (bytes). */
  chattyRss: number;
  chattyReceived: number;
  chattyWritten: number;
  /**
   * The server's own view at the end (after the chatty phase), before and after a full GC
   * (Laneboard only; taken last so the forced GC cannot lower the peaks measured above).
   */
  heap?: { usage: NodeJS.MemoryUsage; afterGc: NodeJS.MemoryUsage };
}

/** Server RSS, sampled every 100 ms, with `lanes` idle and then `lanes` chatty processes. */
export async function memoryRun(sys: BenchSystem, dir: string, o: { lanes: number; rate: number; durationMs: number }): Promise<MemoryResult> {
  const idle = await startAll(sys, o.lanes, () => ["idle"]);
  await sleep(1500);
  let idleRss = 0;
  for (let i = 0; i < 10; i++) {
    idleRss = Math.max(idleRss, rssBytes(sys.serverPid));
    await sleep(100);
  }
  await Promise.all(idle.map((s) => sys.kill(s.handle)));
  await finish(sys, idle);

  const { started: chatty, files, go } = await launch(sys, dir, "rate", o.lanes, o.durationMs, o.rate);
  const c = counter(chatty);
  sys.setReceiver(c.receiver);
  go();
  let chattyRss = 0;
  let printing = true;
  const sampling = (async () => {
    while (printing) {
      chattyRss = Math.max(chattyRss, rssBytes(sys.serverPid));
      await sleep(100);
    }
  })();
  const written = await writtenBy(files, o.durationMs + 60_000).finally(() => (printing = false));
  await sampling;
  await untilDelivered(() => c.received + c.dropped >= written.lines, () => c.lastAt, 60_000);
  await finish(sys, chatty, written);
  const heap = sys.memory ? { usage: await sys.memory(false), afterGc: await sys.memory(true) } : undefined;
  return { idleRss, chattyRss, chattyReceived: c.received, chattyWritten: written.lines, ...(heap ? { heap } : {}) };
}
