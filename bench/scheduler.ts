/**
 * `npm run bench:scheduler [-- --lanes 10000 --repos 50 --runs 5 --decisions 20000 --naive-decisions 400]`
 *
 * The scheduler at scale: ~10 000 queued lanes across 50 repos with dependency chains and fan-ins
 * (bench/scheduler-workload.ts), measured in one process:
 * - dispatch decision time (one `next()` with caps, per-repo caps and engine rate limits),
 *   p50/p99 per run, median over runs — the fast {@link DispatchQueue} against the naive
 *   full-scan {@link NaiveQueue} (sort every dispatchable lane on each decision) on the same
 *   workload; the naive run's choices are checked to be identical to the fast one's;
 * - requeue after a restart: rebuild queue + dependency graph (a) from a JSON snapshot and
 *   (b) from a real SQLite table of Lane rows read with better-sqlite3, (c) through the runtime's
 *   boot path (bench/scheduler-boot.ts: a real data dir, the real Lane table, `loadScheduler`
 *   and the whole `Scheduler.open`, against the first slice's naive requeue), checking that each
 *   rebuilt queue chooses exactly as the live one;
 * - board positions of every queued lane, and one `explain`.
 * A benchmark, not a test: it prints numbers; it fails only if the equivalence checks fail.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { DependencyGraph, type GraphSnapshot } from "../server/scheduler/dependency-graph";
import { DispatchQueue, type QueueSnapshot } from "../server/scheduler/dispatch-queue";
import { NaiveQueue } from "../server/scheduler/reference-queue";
import { UNLIMITED, type QueueItem, type WaitReason } from "../server/scheduler/types";
import { bootRequeue } from "./scheduler-boot";
import { T0, World, type QueueKind } from "./scheduler-workload";

const { values } = parseArgs({
  options: {
    lanes: { type: "string", default: "10000" },
    repos: { type: "string", default: "50" },
    runs: { type: "string", default: "5" },
    decisions: { type: "string", default: "20000" },
    "naive-decisions": { type: "string", default: "400" },
  },
});
const LANES = Number(values.lanes);
const REPOS = Number(values.repos);
const RUNS = Number(values.runs);
const DECISIONS = Number(values.decisions);
const NAIVE_DECISIONS = Number(values["naive-decisions"]);
const NAIVE_RUNS = Math.max(1, Math.min(3, RUNS));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const pct = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const fmt = (x: number, d = 1) => x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });

function check(ok: boolean, what: string): void {
  if (!ok) {
    console.error(`EQUIVALENCE CHECK FAILED: ${what}`);
    process.exitCode = 1;
  }
}

interface Run {
  p50: number;
  p99: number;
  queued: number;
  picks: string[];
}

/** One run: build the world (not timed), then time `decisions` dispatch decisions (µs). */
function run(kind: QueueKind, seed: number, decisions: number): Run {
  const w = new World(kind, seed, LANES, REPOS);
  const ns = new Float64Array(decisions);
  let now = T0;
  for (let i = 0; i < decisions; i++) ns[i] = w.step((now += 20));
  ns.sort();
  return { p50: pct(ns, 0.5) / 1000, p99: pct(ns, 0.99) / 1000, queued: w.queue.size, picks: w.picks };
}

function timeMs<T>(fn: () => T, reps = 5): { ms: number; value: T } {
  const ms: number[] = [];
  let value!: T;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    value = fn();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), value };
}

/** Median ms of `fn` on a freshly restored queue (so no cached positions), 5 reps. */
function uncached<T>(snap: QueueSnapshot, fn: (q: DispatchQueue) => T): { ms: number; value: T } {
  const ms: number[] = [];
  let value!: T;
  for (let i = 0; i < 5; i++) {
    const fresh = DispatchQueue.restore(snap);
    const t0 = performance.now();
    value = fn(fresh);
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), value };
}

/** The next `n` choices with no cap in the way (consumes the queue). */
const order = (q: DispatchQueue, n: number) => Array.from({ length: n }, () => q.next(UNLIMITED, T0)?.item.laneId ?? null);

function parkedReason(graph: DependencyGraph, laneId: string): WaitReason | undefined {
  const s = graph.status(laneId);
  return s.state === "waiting" ? { kind: "dependency", laneIds: s.on } : s.state === "blocked" ? { kind: "dependency", laneIds: [s.laneId], blockedBy: s } : undefined;
}

/** Requeue from a real SQLite table of Lane rows: write them (not timed), then read + rebuild (timed). */
async function sqliteRequeue(snap: { queue: QueueSnapshot; graph: GraphSnapshot }): Promise<{ ms: number; rows: number; queue: DispatchQueue }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-schedbench-"));
  const db = new Database(path.join(dir, "bench.db"));
  try {
    db.pragma("journal_mode = WAL");
    db.exec(`CREATE TABLE Lane (id TEXT PRIMARY KEY, repoId TEXT NOT NULL, state TEXT NOT NULL, pool TEXT NOT NULL,
      priority INTEGER NOT NULL, deadline INTEGER, queuedAt INTEGER NOT NULL, seq INTEGER, engine TEXT,
      dependsOn TEXT NOT NULL, mode TEXT NOT NULL);
      CREATE INDEX Lane_state_seq ON Lane(state, seq);
      CREATE TABLE SchedulerState (id INTEGER PRIMARY KEY, fairness TEXT NOT NULL, weights TEXT NOT NULL, nextSeq INTEGER NOT NULL);`);
    const queued = new Map(snap.queue.items.map((i) => [i.laneId, i]));
    const insert = db.prepare("INSERT INTO Lane VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    db.transaction(() => {
      for (const n of snap.graph.nodes) {
        const q = queued.get(n.laneId);
        const state = q ? "queued" : n.outcome === "failed" ? "failed" : n.outcome ? "finished" : "running";
        insert.run(n.laneId, q?.repoId ?? "repo-0", state, q?.pool ?? "agent", q?.priority ?? 0, q?.deadline ?? null, q?.enqueuedAt ?? T0, q?.seq ?? null, q?.engine ?? null, JSON.stringify(n.deps), n.mode);
      }
      db.prepare("INSERT INTO SchedulerState VALUES (1, ?, ?, ?)").run(JSON.stringify(snap.queue.fairness), JSON.stringify(snap.queue.weights), snap.queue.nextSeq);
    })();
    type Row = { id: string; repoId: string; state: string; pool: QueueItem["pool"]; priority: number; deadline: number | null; queuedAt: number; seq: number; engine: string | null; dependsOn: string; mode: "wait_all" | "wait_any" };
    const { ms, value } = timeMs(() => {
      const rows = db.prepare("SELECT id, repoId, state, pool, priority, deadline, queuedAt, seq, engine, dependsOn, mode FROM Lane").all() as Row[];
      const st = db.prepare("SELECT fairness, weights, nextSeq FROM SchedulerState WHERE id = 1").get() as { fairness: string; weights: string; nextSeq: number };
      const graph = DependencyGraph.restore({
        version: 1,
        nodes: rows.map((r) => ({ laneId: r.id, deps: JSON.parse(r.dependsOn) as string[], mode: r.mode, artifact: null, parentId: null, outcome: r.state === "finished" ? "succeeded" : r.state === "failed" ? "failed" : null, produced: null })),
      });
      const items = rows
        .filter((r) => r.state === "queued")
        .map((r) => ({ laneId: r.id, repoId: r.repoId, pool: r.pool, priority: r.priority, deadline: r.deadline, enqueuedAt: r.queuedAt, seq: r.seq, engine: r.engine, parked: parkedReason(graph, r.id) }));
      const queue = DispatchQueue.restore({ items, fairness: JSON.parse(st.fairness), weights: JSON.parse(st.weights), nextSeq: st.nextSeq });
      return { rows: rows.length, queue };
    });
    return { ms, ...value };
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`scheduler benchmark: ${LANES} queued lanes, ${REPOS} repos, node ${process.version}, ${os.cpus().length} cores`);
  run("fast", 1, Math.min(DECISIONS, 5000)); // warm-up (JIT)

  const fast = Array.from({ length: RUNS }, (_, r) => run("fast", 100 + r, DECISIONS));
  const naive = Array.from({ length: NAIVE_RUNS }, (_, r) => run("naive", 100 + r, NAIVE_DECISIONS));
  naive.forEach((n, r) => check(n.picks.join() === fast[r]!.picks.slice(0, n.picks.length).join(), `run ${r}: naive and fast choices differ`));

  // A live queue in a realistic state (tags, parks, running lanes) for restart and board numbers.
  const live = new World("fast", 7, LANES, REPOS);
  for (let i = 0, now = T0; i < 2000; i++) live.step((now += 20));
  const q = live.queue as DispatchQueue;
  const snap = { queue: q.snapshot(), graph: live.graph.snapshot() };
  const json = JSON.stringify(snap);
  const someLane = snap.queue.items.find((i) => !i.parked && i.pool === "agent")!.laneId;
  uncached(snap.queue, (fresh) => fresh.positions("agent").size); // warm-up (JIT)
  const positions = uncached(snap.queue, (fresh) => fresh.positions("agent").size);
  const explain = uncached(snap.queue, (fresh) => fresh.explain(someLane, live.view, T0));
  const fromJson = timeMs(() => {
    const s = JSON.parse(json) as typeof snap;
    return { queue: DispatchQueue.restore(s.queue), graph: DependencyGraph.restore(s.graph) };
  });
  const naiveLoad = timeMs(() => {
    const s = JSON.parse(json) as typeof snap;
    const nq = new NaiveQueue();
    for (const i of s.queue.items) nq.enqueue(i, !!i.parked);
    return nq;
  });
  const fromSqlite = await sqliteRequeue(snap);
  const boot = await bootRequeue(snap, REPOS);
  const expected = order(DispatchQueue.restore(snap.queue), 2000);
  check(order(boot.queue, 2000).join() === expected.join(), "queue rebuilt through the boot path orders differently");
  check(order(fromJson.value.queue, 2000).join() === expected.join(), "JSON-restored queue orders differently");
  check(order(fromSqlite.queue, 2000).join() === expected.join(), "SQLite-restored queue orders differently");
  check(order(q, 2000).join() === expected.join(), "restored queue differs from the live queue");

  const f50 = median(fast.map((r) => r.p50));
  const f99 = median(fast.map((r) => r.p99));
  const n50 = median(naive.map((r) => r.p50));
  const n99 = median(naive.map((r) => r.p99));
  const rows: Array<[string, string, string, string]> = [
    ["dispatch decision p50 (µs)", fmt(f50, 2), fmt(n50, 0), `${fmt(n50 / f50, 0)}×`],
    ["dispatch decision p99 (µs)", fmt(f99, 2), fmt(n99, 0), `${fmt(n99 / f99, 0)}×`],
    ["decisions timed", `${RUNS} × ${DECISIONS}`, `${NAIVE_RUNS} × ${NAIVE_DECISIONS}`, ""],
    ["queued at end of run (median)", String(median(fast.map((r) => r.queued))), String(median(naive.map((r) => r.queued))), ""],
    [`requeue after restart, JSON snapshot (${fmt(json.length / 1e6, 1)} MB) (ms)`, fmt(fromJson.ms), fmt(naiveLoad.ms), `${fmt(naiveLoad.ms / fromJson.ms, 2)}×`],
    [`requeue after restart, SQLite ${fromSqlite.rows} Lane rows (ms)`, fmt(fromSqlite.ms), "", ""],
    [`requeue after restart, boot path: loadScheduler, ${boot.rows} Lane rows, ${boot.queued} queued (ms)`, fmt(boot.loadMs), fmt(boot.naiveMs), `${fmt(boot.naiveMs / boot.loadMs, 2)}×`],
    ["requeue after restart, boot path: whole Scheduler.open (ms)", fmt(boot.openMs), "", ""],
    [`board positions of ${positions.value} agent lanes (ms)`, fmt(positions.ms), "", ""],
    ["explain one lane (positions not cached) (ms)", fmt(explain.ms, 2), "", ""],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  console.log(`\n| ${"measure".padEnd(w0)} | fast (heaps) | naive (full sort) | naive / fast |`);
  console.log(`| ${"-".repeat(w0)} | ---: | ---: | ---: |`);
  for (const r of rows) console.log(`| ${r[0].padEnd(w0)} | ${r[1]} | ${r[2]} | ${r[3]} |`);
  console.log(`\nper-run fast p50/p99 µs: ${fast.map((r) => `${fmt(r.p50, 2)}/${fmt(r.p99, 2)}`).join("  ")}`);
  console.log(`per-run naive p50/p99 µs: ${naive.map((r) => `${fmt(r.p50, 0)}/${fmt(r.p99, 0)}`).join("  ")}`);
  console.log(`equivalence: naive = fast on ${NAIVE_RUNS} × ${NAIVE_DECISIONS} decisions; JSON, SQLite and boot-path rebuilds = live order on 2000 starts: ${process.exitCode ? "FAILED" : "ok"}`);
  console.log("boot-path naive baseline: queued Lane rows oldest first into the full-scan queue (no dependency graph, no fair-share state, no ledger).");
}

await main();
