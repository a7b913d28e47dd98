/**
 * `npm run bench:processes [-- --quick] [--runs 3] [--only spawn,latency,throughput,memory]
 *   [--no-pm2] [--json <file>] [--keep-temp] [--procs 10,50,100] [--server-prof <dir>]
 *   [--server-root <checkout>] [--server-node-args="<node flags>"] [--dump-latency <dir>]`
 *
 * Laneboard's process supervisor and realtime log path against PM2, on this
 * machine, in one run. Laneboard is its production path in a process of its own
 * (bench/lib/server-child.ts: runtime + Socket.IO, no Next.js) with a real Socket.IO client here;
 * PM2 is a private daemon driven through its programmatic API with its bus as the client. Both
 * run the same program (bench/lib/printer.mjs). Workloads (bench/lib/workloads.ts):
 * - spawn / kill: request → pid; kill request → answer and process group gone (/proc), p50/p99;
 * - delivery latency: 50 processes × 200 lines/s, write → receipt by the client, p50/p99;
 * - log throughput: 10 / 50 / 100 processes flooding → lines/s received end to end, server CPU
 *   seconds per million lines, and every written byte in the log files;
 * - memory: server RSS (peak) with 100 idle and with 100 chatty (200 lines/s) processes.
 * Same conditions for both: the same printer program and node flags; each server (Laneboard's
 * child, PM2's daemon) in a session of its own, so neither shares the kernel's scheduler
 * autogroup with the client it sends to; every printer is held alive until its run is measured
 * (printer.mjs "Hold"), so no system is charged for Node's ~9 ms exit of 100 printers; every
 * printer has created its stdout stream and run its line code before it reports ready
 * (printer.mjs "Warm-up"), so the first lines of a run do not wait for 50 cold printers; and each
 * system's log path is warmed up (one unmeasured latency and throughput run) before the first
 * measured run, so the figures are of steady state, not of code still being compiled.
 * Each figure is the median over `--runs` runs (3; `--quick`: 1 run, shorter workloads), the
 * latency figures over twice as many (two latency runs per round); runs of the two systems
 * alternate. Prints a markdown table; writes the figures and every run's raw numbers as JSON to
 * `--json`, by default (only for the complete default run: no --quick, --only, --runs, --procs,
 * --no-pm2 or server options) to bench/results/processes-latest.json.
 * `--server-prof <dir>` runs the Laneboard server with `--cpu-prof` (profile written there on exit);
 * `--server-root <dir>` runs the server from another checkout (a scratch copy with a change to
 * measure; node_modules may be a symlink to this one's); `--server-node-args` adds node flags to
 * the server (e.g. V8 heap limits, to see their effect on RSS). `--dump-latency <dir>` writes every
 * latency sample of each run to `<dir>/<system>-<round>.<k>.json` as `{ startAt, samples,
 * clientGc }`: `samples` a flat array of [write time, receipt time] pairs and `clientGc` the
 * client's GC pauses as [start, duration] pairs, ms since the run's start `startAt` (epoch ms), to
 * see where the tail comes from.
 * A benchmark, not a test: it exits non-zero only if a run fails.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startLaneboard } from "./lib/laneboard-system";
import { waitIdle, waitMachineIdle } from "./lib/measure";
import { startPm2 } from "./lib/pm2-system";
import { buildRows, renderTable, type Runs } from "./processes-report";
import type { BenchSystem } from "./lib/system";
import { LATE_MS, latencyRun, memoryRun, spawnKillRun, throughputRun } from "./lib/workloads";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    only: { type: "string", default: "spawn,latency,throughput,memory" },
    "no-pm2": { type: "boolean", default: false },
    json: { type: "string" },
    "keep-temp": { type: "boolean", default: false },
    procs: { type: "string", default: "10,50,100" },
    "server-prof": { type: "string" },
    "server-root": { type: "string" },
    "server-node-args": { type: "string" },
    "dump-latency": { type: "string" },
  },
});
const quick = values.quick;
const RUNS = Number(values.runs ?? (quick ? 1 : 3));
const ONLY = new Set(values.only.split(","));
const P = {
  lanes: 100,
  spawn: { count: quick ? 15 : 25, gapMs: 150, settleMs: 1000 },
  // Measured twice per round (median of 6 by default): the noisiest figures (50 printers, the
  // server and the client more than fill 2 cores, so the tail is set by the kernel's scheduler).
  latency: { procs: 50, rate: 200, durationMs: quick ? 2000 : 4000, perRound: quick ? 1 : 2 },
  throughputProcs: values.procs.split(",").map(Number),
  throughput: { durationMs: quick ? 1500 : 3000, maxLinesTotal: quick ? 300_000 : 600_000 },
  memory: { lanes: 100, rate: 200, durationMs: quick ? 2000 : 4000 },
};
/** Only the complete default benchmark replaces the committed results; any partial or experimental run needs --json. */
const isReference =
  !quick && values.runs === undefined && ONLY.size === 4 && !values["no-pm2"] && values.procs === "10,50,100" &&
  !values["server-root"] && !values["server-node-args"] && !values["server-prof"];
const JSON_OUT = values.json ?? (isReference ? path.join(import.meta.dirname, "results", "processes-latest.json") : null);

const log = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);
const fmt = (x: number, d = 1) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

const root = await mkdtemp(path.join(os.tmpdir(), "laneboard-bench-processes-"));
const systems: BenchSystem[] = [];
let closing: Promise<void> | null = null;
const cleanup = () =>
  (closing ??= (async () => {
    await Promise.allSettled(systems.map((s) => s.close()));
    if (values["keep-temp"]) log(`kept ${root} (server.log, log files, PM2 home)`);
    else await rm(root, { recursive: true, force: true });
  })());
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));

const runs: Runs = { spawn: [], latency: [], throughput: [], memory: [] };
const t0 = Date.now();
// The machine may be shared: record how busy it was, since every figure depends on it.
const loadAvg = { atStart: os.loadavg()[0]!, atEnd: NaN };
if (loadAvg.atStart > os.cpus().length / 2) log(`warning: load average ${loadAvg.atStart.toFixed(1)} on ${os.cpus().length} cores; figures will be noisy`);
try {
  log(`starting Laneboard (server child, ${P.lanes} lanes) ${values["no-pm2"] ? "" : "and PM2 "}in ${root}`);
  systems.push(await startLaneboard({ dataDir: path.join(root, "laneboard"), repoDir: path.join(root, "repo"), logFile: path.join(root, "server.log"), lanes: P.lanes, cpuProfDir: values["server-prof"], serverRoot: values["server-root"], nodeArgs: values["server-node-args"]?.split(" ").filter(Boolean) }));
  if (!values["no-pm2"]) {
    const cwd = path.join(root, "pm2-cwd");
    await mkdir(cwd);
    await mkdir(path.join(root, "pm2-home"));
    systems.push(await startPm2({ home: path.join(root, "pm2-home"), cwd }));
  }
  const dir = path.join(root, "counts");
  await mkdir(dir);
  // Warm-up, unmeasured: each system's log path once through the latency and the throughput
  // workload, so no figure is of cold code (the first latency run after a start had a p50 of
  // 1.2-4.6 ms against 0.5-0.8 ms later for Laneboard, 0.6-2.4 ms for PM2; both settle within 2-3 s).
  if (ONLY.has("latency") || ONLY.has("throughput")) {
    for (const sys of systems) {
      await waitIdle(sys.serverPid);
      await latencyRun(sys, dir, { ...P.latency, durationMs: 2000 });
      await waitIdle(sys.serverPid);
      await throughputRun(sys, dir, { procs: 10, ...P.throughput });
      log(`warmed up ${sys.name}`);
    }
  }
  for (let run = 1; run <= RUNS; run++) {
    for (const sys of systems) {
      const tag = `run ${run}/${RUNS} ${sys.name}`;
      // Each workload starts on a quiet server and machine (not measuring the tail of the previous
      // workload, of this system or of the other one).
      const quiet = async () => {
        if (!(await waitIdle(sys.serverPid))) log(`${tag}: the server did not become idle within 60 s; measuring anyway`);
        if (!(await waitMachineIdle())) log(`${tag}: the machine did not become idle (under 10 % busy) within 30 s; measuring anyway`);
      };
      if (ONLY.has("spawn")) {
        await quiet();
        const r = await spawnKillRun(sys, P.spawn);
        runs.spawn.push({ system: sys.name, run, ...r });
        const ms = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(" ");
        log(`${tag} spawn ms: ${ms(r.spawnMs)}\n  kill→gone ms: ${ms(r.killMs)}\n  kill→answer ms: ${ms(r.killReplyMs)}`);
      }
      for (let k = 1; ONLY.has("latency") && k <= P.latency.perRound; k++) {
        await quiet();
        const dumpFile = values["dump-latency"] && path.join(values["dump-latency"], `${sys.name}-${run}.${k}.json`);
        const r = await latencyRun(sys, dir, { ...P.latency, ...(dumpFile ? { dumpFile } : {}) });
        runs.latency.push({ system: sys.name, run, ...r });
        const late = r.lateSlots.map(([ms, n]) => `${ms}:${n}`).join(" ") || "none";
        log(`${tag} latency ${k}/${P.latency.perRound} p50 ${fmt(r.p50Ms)} ms p99 ${fmt(r.p99Ms)} ms, server CPU ${fmt(100 * r.serverCpuShare, 0)} % of a core (received ${r.received} of ${r.written} written, ${r.dropped} dropped, ${r.extra} extra)\n  lines later than ${LATE_MS} ms by write time (ms since start:lines): ${late}`);
      }
      if (ONLY.has("throughput")) {
        for (const procs of P.throughputProcs) {
          await quiet();
          const r = await throughputRun(sys, dir, { procs, ...P.throughput });
          runs.throughput.push({ system: sys.name, run, ...r });
          log(`${tag} throughput ×${procs}: ${fmt(r.linesPerSec, 0)} lines/s, ${fmt(r.cpuSecPerMLines, 2)} CPU s/M lines (received ${r.received} of ${r.written} written, ${r.dropped} dropped, ${r.extra} extra; ${fmt(r.elapsedMs, 0)} ms; CPU s server ${fmt(r.cpu.serverSec, 2)}, client ${fmt(r.cpu.clientSec, 2)}, printers ${fmt(r.cpu.printersSec, 2)}, machine ${fmt(r.cpu.machineSec, 2)})`);
        }
      }
      if (ONLY.has("memory")) {
        await quiet();
        const r = await memoryRun(sys, dir, P.memory);
        runs.memory.push({ system: sys.name, run, ...r });
        const mb = (x: number) => `${fmt(x / 2 ** 20, 0)} MB`;
        const h = r.heap;
        const heap = h ? ` (at the end: heap used ${mb(h.usage.heapUsed)} of ${mb(h.usage.heapTotal)}, external ${mb(h.usage.external)}; after a full GC: rss ${mb(h.afterGc.rss)}, heap used ${mb(h.afterGc.heapUsed)})` : "";
        log(`${tag} RSS idle ${mb(r.idleRss)}, chatty ${mb(r.chattyRss)}${heap}`);
      }
    }
  }
} catch (err) {
  process.exitCode = 1;
  console.error("benchmark failed:", err instanceof Error ? (err.stack ?? err.message) : err);
} finally {
  await cleanup();
}

loadAvg.atEnd = os.loadavg()[0]!;
const rows = buildRows(runs, { pm2: !values["no-pm2"], throughputProcs: P.throughputProcs });
console.log(`\n## npm run bench:processes${quick ? " --quick" : ""} — median of ${RUNS} run(s) (latency: ${RUNS * P.latency.perRound}), ${os.cpus().length} cores, node ${process.version}, load average ${loadAvg.atStart.toFixed(1)} → ${loadAvg.atEnd.toFixed(1)}\n`);
console.log(renderTable(rows));
log(`total ${fmt((Date.now() - t0) / 1000, 0)} s`);
if (JSON_OUT && process.exitCode !== 1) {
  await mkdir(path.dirname(JSON_OUT), { recursive: true });
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "", memBytes: os.totalmem(), node: process.version, platform: `${os.type()} ${os.release()}` };
  await writeFile(JSON_OUT, `${JSON.stringify({ date: new Date().toISOString(), quick, runsPerFigure: RUNS, params: P, machine, loadAvg, rows, runs }, null, 2)}\n`);
  log(`results written to ${path.relative(process.cwd(), JSON_OUT)}`);
}
process.exit();
