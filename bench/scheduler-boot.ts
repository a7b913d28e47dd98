/**
 * "Time to requeue after a restart" through the runtime's real boot path: a real data dir
 * (`openDatabase`: migrations applied, WAL), the real Lane and SchedulerState tables holding the
 * benchmark's lanes, and the scheduler's own rebuild — `loadScheduler` (what `Scheduler.open`
 * calls before the supervisor reattaches) and the whole `Scheduler.open` (plus saving the state
 * row, replaying usage, the `restored` event). Baseline in the same run: the first slice's naive
 * requeue — read the queued Lane rows oldest first and push them into the full-scan queue (no
 * dependencies, no fairness state).
 *
 * Rows are written with better-sqlite3 in one transaction (not timed), in the formats Prisma
 * writes (DateTime as ISO 8601 text).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { EventBus } from "../server/events/event-bus";
import { EventLog } from "../server/events/event-log";
import type { GraphSnapshot } from "../server/scheduler/dependency-graph";
import type { DispatchQueue, QueueSnapshot } from "../server/scheduler/dispatch-queue";
import { NaiveQueue } from "../server/scheduler/reference-queue";
import { Scheduler } from "../server/scheduler/scheduler";
import { loadScheduler } from "../server/scheduler/scheduler-store";
import { closeDatabase, databaseFile, openDatabase } from "../server/store/db";
import { T0 } from "./scheduler-workload";

const iso = (ms: number) => new Date(ms).toISOString().replace("Z", "+00:00");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

export interface BootRequeue {
  rows: number;
  queued: number;
  /** Median ms of `loadScheduler` (read every Lane row + state row, rebuild graph, queue, ledger). */
  loadMs: number;
  /** Median ms of the whole `Scheduler.open`. */
  openMs: number;
  /** Median ms of the naive requeue (queued rows oldest first into the full-scan queue). */
  naiveMs: number;
  /** The queue `loadScheduler` rebuilt, to check its order. */
  queue: DispatchQueue;
}

async function timed<T>(reps: number, fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const ms: number[] = [];
  let value!: T;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    value = await fn();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), value };
}

/** Write the benchmark's lanes into a fresh data dir's Lane table, then time the rebuilds (5 reps each). */
export async function bootRequeue(snap: { queue: QueueSnapshot; graph: GraphSnapshot }, repos: number, reps = 5): Promise<BootRequeue> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-schedboot-"));
  const db = await openDatabase(dir);
  try {
    const raw = new Database(databaseFile(dir));
    raw.pragma("busy_timeout = 5000");
    const queued = new Map(snap.queue.items.map((i) => [i.laneId, i]));
    const now = iso(T0);
    const insertRepo = raw.prepare("INSERT INTO Repo (id, path, name, mainBranch, createdAt) VALUES (?, ?, ?, 'main', ?)");
    const insertLane = raw.prepare(
      `INSERT INTO Lane (id, repoId, slug, objective, branch, baseBranch, worktreePath, engine, packet, state, queuedAt, createdAt, updatedAt,
        pool, priority, deadline, queueSeq, dependsOn, dependsMode) VALUES (?, ?, ?, ?, ?, 'main', ?, ?, '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    raw.transaction(() => {
      for (let r = 0; r < repos; r++) insertRepo.run(`repo-${r}`, `/bench/repo-${r}`, `repo-${r}`, now);
      for (const n of snap.graph.nodes) {
        const q = queued.get(n.laneId);
        const state = q ? "queued" : n.outcome === "failed" ? "failed" : n.outcome ? "finished" : "running";
        const repoId = q?.repoId ?? `repo-${Number(n.laneId.split("-")[1]) % repos}`;
        insertLane.run(
          n.laneId, repoId, n.laneId, n.laneId, `lane/${n.laneId}`, `/bench/wt/${n.laneId}`, q?.engine ?? "", state,
          iso(q?.enqueuedAt ?? T0), now, now, q?.pool ?? "agent", q?.priority ?? 0, q?.deadline == null ? null : iso(q.deadline), q?.seq ?? null,
          JSON.stringify(n.deps), n.mode,
        );
      }
      const { fairness, weights, nextSeq } = snap.queue;
      raw.prepare("INSERT INTO SchedulerState (id, fairness, caps, bootWorkerCap, updatedAt) VALUES (1, ?, ?, 64, ?)").run(
        JSON.stringify({ fairness, weights, nextSeq }),
        JSON.stringify({ global: { agent: 64, check: 16, background: 8 }, perRepo: { agent: 8, check: null, background: null }, repos: {} }),
        now,
      );
    })();
    raw.close();

    const load = await timed(reps, () => loadScheduler(db, { workerCap: 64, now: T0 }));
    const open = await timed(reps, async () => {
      const bus = new EventBus();
      // No lane is started here: the lane.start request is answered with "not started".
      bus.handle("lane.start", async () => false);
      bus.handle("lane.stop", async () => undefined);
      const s = await Scheduler.open({ db, bus, events: new EventLog(db, bus), workerCap: 64, now: () => T0 });
      await s.stop();
      return s;
    });
    const naive = await timed(reps, async () => {
      const rows = await db.lane.findMany({ where: { state: "queued" }, orderBy: [{ queuedAt: "asc" }, { id: "asc" }], select: { id: true, repoId: true, pool: true, priority: true, deadline: true, queuedAt: true, engine: true } });
      const q = new NaiveQueue();
      for (const r of rows) q.enqueue({ laneId: r.id, repoId: r.repoId, pool: r.pool as "agent", priority: r.priority, deadline: r.deadline?.getTime() ?? null, enqueuedAt: r.queuedAt.getTime(), engine: r.engine || null });
      return q;
    });
    return { rows: snap.graph.nodes.length, queued: load.value.queued, loadMs: load.ms, openMs: open.ms, naiveMs: naive.ms, queue: load.value.core.queue };
  } finally {
    await closeDatabase(db);
    await rm(dir, { recursive: true, force: true });
  }
}
