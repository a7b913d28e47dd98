/**
 * `npm run bench:cluster [-- --lanes 90 --events 1500 --rate 2000 --seconds 8]`: Laneboard on one
 * node with SQLite (the baseline), one node on PostgreSQL and three nodes on one PostgreSQL, in
 * the same run on this machine (docs/scale-out.md). Per setup:
 *
 * - **dispatch decisions/s**: `--lanes` lanes wait queued under a global cap of 0; the cap is
 *   raised and the clock runs until the last of them is `starting` on a node (the event log's
 *   times). Workers sleep, so none finishes meanwhile; node slots exceed the lanes.
 * - **event appends/s**: one writer per node, each appending `--events` events back to back
 *   through the event log (real statements, the cluster's commit-order lock included).
 * - **cross-node output**: a lane prints `--rate` lines/s for `--seconds`, each line carrying its
 *   write time; a Socket.IO client subscribed on a node that does *not* run the lane (on one node:
 *   that node) counts lines/s received and the p99 of receipt minus write time.
 *
 * Prints a table with ratios against the SQLite baseline and the load average, and writes
 * bench/results/cluster-latest.json. PostgreSQL comes from Debian's package (throwaway server).
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { io as connect } from "socket.io-client";
import { decodeChunk, unpackOutput } from "../lib/log-chunk";
import { startThrowawayPostgres } from "../scripts/lib/throwaway-postgres";
import { EventBus } from "../server/events/event-bus";
import { EventLog } from "../server/events/event-log";
import { commitFile, initRepo } from "../server/git/git.testing";
import { closeDatabase, openDatabase } from "../server/store/db";
import { percentile, median } from "./lib/measure";

const { values } = parseArgs({ options: { lanes: { type: "string" }, events: { type: "string" }, rate: { type: "string" }, seconds: { type: "string" } } });
const LANES = Number(values.lanes ?? 90);
const EVENTS = Number(values.events ?? 1500);
const RATE = Number(values.rate ?? 2000);
const SECONDS = Number(values.seconds ?? 8);
const NODE = path.join(import.meta.dirname, "lib", "cluster-node.ts");

interface Node {
  id: string;
  port: number;
  /** Its admin token (the Socket.IO handshake needs one). */
  token: string;
  child: ChildProcess;
  call<T>(cmd: Record<string, unknown>): Promise<T>;
}

async function startNode(config: Record<string, unknown>): Promise<Node> {
  const child = fork(NODE, [JSON.stringify(config)], { execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "inherit", "ipc"] });
  let seq = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const ready = await new Promise<{ port: number; nodeId: string; token: string }>((resolve, reject) => {
    child.on("message", (m: { ready?: boolean; port: number; nodeId: string; token: string; seq?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (m.ready) return resolve(m);
      const w = waiting.get(m.seq!);
      waiting.delete(m.seq!);
      if (m.ok) w?.resolve(m.result);
      else w?.reject(new Error(m.error));
    });
    child.once("exit", (code) => reject(new Error(`node exited with ${code}`)));
  });
  return {
    id: ready.nodeId,
    port: ready.port,
    token: ready.token,
    child,
    call: <T>(cmd: Record<string, unknown>) =>
      new Promise<T>((resolve, reject) => {
        const s = ++seq;
        waiting.set(s, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ ...cmd, seq: s });
      }),
  };
}

async function until(pred: () => Promise<boolean>, what: string, timeoutMs = 600_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function makeRepo(dir: string, name: string): Promise<string> {
  const repo = path.join(dir, name);
  await mkdir(repo, { recursive: true });
  await initRepo(repo);
  await commitFile(repo, "package.json", "{}\n", "init");
  return repo;
}

/** Lanes queued under cap 0, then released: lanes claimed per second. */
async function dispatch(nodes: Node[], repoPath: string): Promise<number> {
  const [a] = nodes;
  const repo = await a!.call<string>({ cmd: "repo", path: repoPath });
  await a!.call({ cmd: "caps", caps: { global: { agent: 0 } } });
  const ids = await a!.call<string[]>({ cmd: "lanes", repo, count: LANES, argv: ["sleep", "60"], prefix: "d" });
  const [{ id: after } = { id: 0 }] = (await a!.call<{ id: number }[]>({ cmd: "events", after: 0, type: "lane.created" })).slice(-1);
  const t0 = Date.now();
  await a!.call({ cmd: "caps", caps: { global: { agent: LANES } } });
  await until(async () => (await a!.call<{ state: string }[]>({ cmd: "states", ids })).every((l) => l.state !== "queued"), "every lane to leave the queue");
  const starts = (await a!.call<{ laneId: string; at: number; payload: string }[]>({ cmd: "events", after, type: "lane.state_changed" })).filter((e) => ids.includes(e.laneId) && JSON.parse(e.payload).to === "starting");
  const last = Math.max(...starts.map((e) => e.at));
  return ids.length / ((last - t0) / 1000);
}

/** One writer per node appending back to back: events per second over all of them. */
async function appends(writers: number, databaseUrl: string | undefined, tmp: string): Promise<number> {
  const dataDir = path.join(tmp, "appends");
  const dbs = await Promise.all(Array.from({ length: writers }, () => openDatabase(dataDir, { databaseUrl })));
  try {
    const t0 = performance.now();
    await Promise.all(
      dbs.map(async (db, w) => {
        const log = new EventLog(db, new EventBus());
        for (let i = 0; i < EVENTS; i++) await log.append({ type: "repo.registered", laneId: null, repoId: null, payload: { path: `/bench/${w}/${i}`, name: "bench", mainBranch: "main" } });
      }),
    );
    return (writers * EVENTS) / ((performance.now() - t0) / 1000);
  } finally {
    await Promise.all(dbs.map(closeDatabase));
  }
}

const PRINTER = `const rate=${RATE},end=Date.now()+${SECONDS * 1000};let n=0;const t0=Date.now();const tick=()=>{const due=Math.floor((Date.now()-t0)*rate/1000);let s="";while(n<due){s+=(performance.timeOrigin+performance.now()).toFixed(3)+" "+(n++)+"\\n"}if(s)process.stdout.write(s);if(Date.now()<end)setTimeout(tick,5);};tick();`;

/** A lane printing on the last node, watched from the first: lines/s received, p99 latency (ms). */
async function output(nodes: Node[], repoPath: string): Promise<{ linesPerSecond: number; p99Ms: number; p50Ms: number; lines: number }> {
  const watcher = nodes[0]!;
  const repo = await watcher.call<string>({ cmd: "repo", path: repoPath });
  const socket = connect(`http://127.0.0.1:${watcher.port}`, { transports: ["websocket"], auth: { token: watcher.token } });
  await new Promise<void>((r) => socket.once("connect", () => r()));
  const latencies: number[] = [];
  let first = 0;
  let lastAt = 0;
  socket.on("process:output", (msg: Parameters<typeof unpackOutput>[0]) => {
    const at = performance.timeOrigin + performance.now();
    for (const { processId, chunk } of unpackOutput(msg)) {
      for (const line of decodeChunk(processId, chunk)) {
        const ts = Number(line.text.split(" ")[0]);
        if (Number.isFinite(ts)) latencies.push(at - ts);
      }
    }
    first ||= at;
    lastAt = at;
  });
  // Only the last node takes this repo's lanes (on one node it is the watcher itself).
  const [laneId] = await watcher.call<string[]>({ cmd: "lanes", repo, count: 1, argv: ["node", "-e", PRINTER], prefix: "o" });
  await new Promise<void>((resolve, reject) => socket.emit("lane:subscribe", { laneId, tail: 0 }, (a: { ok: boolean }) => (a.ok ? resolve() : reject(new Error("subscribe refused")))));
  await until(async () => (await watcher.call<{ state: string }[]>({ cmd: "states", ids: [laneId] }))[0]!.state === "finished", "the printing lane to finish");
  await new Promise((r) => setTimeout(r, 1000));
  socket.close();
  return { linesPerSecond: latencies.length / Math.max(0.001, (lastAt - first) / 1000), p99Ms: percentile(latencies, 99), p50Ms: median(latencies), lines: latencies.length };
}

interface Row {
  setup: string;
  dispatchPerSecond: number;
  appendsPerSecond: number;
  output: Awaited<ReturnType<typeof output>>;
}

async function runSetup(name: string, count: number, databaseUrl: string | undefined): Promise<Row> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), `laneboard-bench-${name}-`));
  const nodes: Node[] = [];
  try {
    const dispatchRepo = await makeRepo(tmp, "dispatch");
    const outputRepo = await makeRepo(tmp, "output");
    for (let i = 0; i < count; i++) {
      const id = `bench-${name}-${i}`;
      // Several nodes: all take the dispatch lanes, only the last one the printing lane.
      const repos = count > 1 && i < count - 1 ? { nodeRepos: [dispatchRepo] } : {};
      nodes.push(await startNode({ dataDir: path.join(tmp, id), nodeId: id, workerCap: Math.ceil(LANES / count) + 4, nodeLeaseMs: 30000, ...repos, ...(databaseUrl ? { databaseUrl } : {}) }));
    }
    const dispatchPerSecond = await dispatch(nodes, dispatchRepo);
    await nodes[0]!.call({ cmd: "caps", caps: { global: { agent: 1000 } } });
    const appendsPerSecond = await appends(count, databaseUrl, tmp);
    const out = await output(nodes, outputRepo);
    return { setup: name, dispatchPerSecond, appendsPerSecond, output: out };
  } finally {
    for (const n of nodes) await n.call({ cmd: "quit" }).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
}

// LANEBOARD_CLUSTER_PG_PORT: a fixed port for the throwaway server (default: one the OS picks).
const pg = await startThrowawayPostgres({ port: Number(process.env.LANEBOARD_CLUSTER_PG_PORT) || undefined });
const rows: Row[] = [];
try {
  rows.push(await runSetup("sqlite-1", 1, undefined));
  rows.push(await runSetup("postgres-1", 1, await pg.createDatabase("bench1")));
  rows.push(await runSetup("postgres-3", 3, await pg.createDatabase("bench3")));
} finally {
  await pg.stop();
}
const base = rows[0]!;
const r = (x: number, b: number) => `${x.toFixed(1)} (${(x / b).toFixed(2)}×)`;
const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
console.log(`\nbench:cluster — ${LANES} lanes, ${EVENTS} events per writer, ${RATE} lines/s for ${SECONDS} s; load average ${load} (${os.cpus().length} cores)\n`);
console.log("| setup | dispatch decisions/s | event appends/s | output lines/s | output p50 ms | output p99 ms |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const x of rows) {
  console.log(`| ${x.setup} | ${r(x.dispatchPerSecond, base.dispatchPerSecond)} | ${r(x.appendsPerSecond, base.appendsPerSecond)} | ${r(x.output.linesPerSecond, base.output.linesPerSecond)} | ${x.output.p50Ms.toFixed(1)} | ${x.output.p99Ms.toFixed(1)} |`);
}
await mkdir(path.join(import.meta.dirname, "results"), { recursive: true });
await writeFile(path.join(import.meta.dirname, "results", "cluster-latest.json"), JSON.stringify({ at: new Date().toISOString(), loadAverage: os.loadavg(), cores: os.cpus().length, lanes: LANES, events: EVENTS, rate: RATE, seconds: SECONDS, rows }, null, 2));
process.exit(0);
