/**
 * Read models of the scheduler for the API and the board (shapes in lib/scheduling.ts): where a
 * queued lane stands and why it waits, the caps in force with what runs, the queue in dispatch
 * order, budgets with their usage, and a lane's scheduling settings. Pure functions over the
 * {@link SchedulerCore}; `now` is epoch ms.
 */
import {
  POOLS, describeWait, type Artifact, type Budget, type BudgetsView, type CapsView, type DependencyMode, type LaneScheduleView,
  type Pool, type QueueEntry, type QueueView, type WaitReason,
} from "@/lib/scheduling";
import type { Lane } from "../store/generated/client";
import type { SchedulerCore } from "./scheduler-core";

export interface Where {
  /** 1-based place in the pool's dispatch order; null while held (dependency, budget). */
  position: number | null;
  waitingFor: WaitReason;
}

/**
 * Where a queued lane stands and why it waits; null if it is not queued. A spent budget covering
 * the lane is reported before a cap or its turn (the dispatcher would hold it anyway once it
 * reached the front), so the board shows the reason that will actually stop it.
 */
export function whereIs(core: SchedulerCore, laneId: string, now: number): Where | null {
  const e = core.explain(laneId, now);
  if (!e) return null;
  // A held lane's reason is recorded when it is held; what it still waits for is the graph's now.
  if (e.waitingFor.kind === "dependency" && core.graph.has(laneId)) {
    const s = core.graph.status(laneId);
    if (s.state === "waiting") return { position: e.position, waitingFor: { kind: "dependency", laneIds: s.on } };
    if (s.state === "blocked") return { position: e.position, waitingFor: { kind: "dependency", laneIds: [s.laneId], blockedBy: { laneId: s.laneId, reason: s.reason } } };
  }
  if ((e.waitingFor.kind === "turn" || e.waitingFor.kind === "cap") && core.ledger.hasLane(laneId)) {
    const spent = core.ledger.exceeded(laneId, now);
    if (spent) return { position: e.position, waitingFor: { kind: "budget", ...spent } };
  }
  return { position: e.position, waitingFor: e.waitingFor };
}

export function capsView(core: SchedulerCore): CapsView {
  const queued = { agent: 0, check: 0, background: 0 };
  for (const pool of POOLS) queued[pool] = core.queue.sizeOf(pool);
  return { caps: core.capacity.caps, running: { global: core.capacity.running(), perRepo: core.capacity.runningPerRepo() }, queued };
}

/**
 * Queued lanes in dispatch order: by pool (agent, check, background), then position; held lanes
 * (position null) after the others of their pool, oldest first. O(n log n).
 */
export function queueView(core: SchedulerCore, now: number, q: { pool?: Pool; repoId?: string; limit: number }): QueueView {
  const items = core.queue.snapshot().items.filter((i) => (!q.pool || i.pool === q.pool) && (!q.repoId || i.repoId === q.repoId) && core.ledger.hasLane(i.laneId));
  const seq = new Map(items.map((i) => [i.laneId, i.seq]));
  const entries: QueueEntry[] = items.map((i) => {
    const w = whereIs(core, i.laneId, now)!;
    return {
      laneId: i.laneId,
      repoId: i.repoId,
      pool: i.pool,
      priority: i.priority,
      deadline: i.deadline === null ? null : new Date(i.deadline).toISOString(),
      queuedAt: new Date(i.enqueuedAt).toISOString(),
      position: w.position,
      waitingFor: w.waitingFor,
      reason: describeWait(w.waitingFor),
    };
  });
  const poolRank = (p: Pool) => POOLS.indexOf(p);
  entries.sort((a, b) => poolRank(a.pool) - poolRank(b.pool) || (a.position ?? Infinity) - (b.position ?? Infinity) || seq.get(a.laneId)! - seq.get(b.laneId)!);
  return { total: entries.length, entries: entries.slice(0, q.limit) };
}

export function budgetsView(core: SchedulerCore, now: number): BudgetsView {
  const day = new Date(now).toISOString().slice(0, 10);
  const repos: BudgetsView["repos"] = {};
  for (const repoId of core.ledger.repoIds()) {
    repos[repoId] = { budget: core.ledger.repoBudget(repoId), used: core.ledger.usage("repo", repoId, now), usedToday: core.ledger.usage("repo_day", repoId, now) };
  }
  return { daily: core.ledger.dailyBudget(), today: { day, used: core.ledger.usage("day", day, now) }, repos };
}

/** The scheduling columns of a Lane row, as stored. */
export type LaneSchedulingRow = Pick<Lane, "id" | "pool" | "priority" | "deadline" | "dependsOn" | "dependsMode" | "artifact" | "budget" | "parentId" | "usedTokens" | "usedCostUsd">;

/**
 * A lane's usage (with its descendants): from the live ledger when it has the lane, else as last
 * stored on the row (which the scheduler keeps current). `core` null: a node that is not the
 * cluster's scheduler.
 */
export function laneUsageView(core: SchedulerCore | null, row: Pick<LaneSchedulingRow, "id" | "usedTokens" | "usedCostUsd">, now: number): LaneScheduleView["used"] {
  return core?.ledger.hasLane(row.id) ? core.ledger.usage("lane", row.id, now) : { tokens: row.usedTokens, costUsd: row.usedCostUsd };
}

/** A lane's scheduling settings and usage (LaneView.schedule); usage as {@link laneUsageView}. */
export function laneScheduleView(core: SchedulerCore | null, row: LaneSchedulingRow, now: number): LaneScheduleView {
  const used = laneUsageView(core, row, now);
  return {
    pool: row.pool as Pool,
    priority: row.priority,
    deadline: row.deadline?.toISOString() ?? null,
    dependsOn: JSON.parse(row.dependsOn) as string[],
    mode: row.dependsMode as DependencyMode,
    artifact: row.artifact ? (JSON.parse(row.artifact) as Artifact) : null,
    parentId: row.parentId,
    budget: row.budget ? (JSON.parse(row.budget) as Budget) : null,
    used,
  };
}
