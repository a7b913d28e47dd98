/**
 * The scheduler's persistence: the Lane rows (queue, dependencies, budgets, usage) and one
 * SchedulerState row (id 1) for what Lane rows cannot hold — fair-share tags, caps, rate limits,
 * repo/day budgets, and the usage bookkeeping. Everything is JSON in that row; shapes below.
 *
 * {@link loadScheduler} rebuilds the {@link SchedulerCore} at boot in O(n) (heaps built
 * bottom-up): every lane enters the dependency graph with its outcome (from its state), queued
 * lanes enter the dispatch queue with their persisted `queueSeq`, and the saved fair-share tags
 * are applied, so the rebuilt queue chooses exactly as the one before the restart did.
 * Lanes that were starting or running count against their pool's caps.
 */
import { CapsConfigSchema, RateLimitSchema, type Budget, type CapsConfig, type RateLimit } from "@/lib/scheduling";
import type { Db } from "../store/db";
import { laneSchedRows } from "../store/sql/hot-sql";
import { BudgetLedger, type LedgerSnapshot, type Totals } from "./budgets";
import { DEFAULT_CAPS } from "./capacity";
import { DependencyGraph, type DepStatus, type GraphSnapshot, type Outcome, type Produced } from "./dependency-graph";
import { DispatchQueue } from "./dispatch-queue";
import { SchedulerCore, type SchedulerEvent } from "./scheduler-core";
import type { Artifact, DependencyMode, LaneScheduling, Pool } from "./schemas";
import type { Lane } from "../store/generated/client";
import type { QueueItem, QueueSnapshot, WaitReason } from "./types";

const STATE_ID = 1;

/** Usage bookkeeping saved with the budgets: last totals seen per worker, last event applied. */
export interface UsageBook {
  /** workerId → the lane and the running totals its last `worker.usage` reported. */
  workers: Record<string, { laneId: string; inputTokens: number; outputTokens: number; costUsd: number }>;
  /** Id of the last `worker.usage` event applied; later ones are replayed at boot. */
  cursor: number;
}

/**
 * Record a worker's running usage totals (one `worker.usage` event, id `eventId`) in the book and
 * return the increase since its previous report, the amount to charge (tokens rounded; never
 * negative: totals that went down charge nothing and are not lowered).
 */
export function chargeUsage(
  book: UsageBook,
  laneId: string,
  eventId: number,
  report: { workerId: string; inputTokens: number; outputTokens: number; costUsd?: number | null },
): { inputTokens: number; outputTokens: number; costUsd: number } {
  const { workerId, inputTokens, outputTokens } = report;
  const costUsd = report.costUsd ?? 0;
  const prev = book.workers[workerId] ?? { laneId, inputTokens: 0, outputTokens: 0, costUsd: 0 };
  const delta = {
    inputTokens: Math.max(0, Math.round(inputTokens - prev.inputTokens)),
    outputTokens: Math.max(0, Math.round(outputTokens - prev.outputTokens)),
    costUsd: Math.max(0, costUsd - prev.costUsd),
  };
  book.workers[workerId] = { laneId, inputTokens: Math.max(inputTokens, prev.inputTokens), outputTokens: Math.max(outputTokens, prev.outputTokens), costUsd: Math.max(costUsd, prev.costUsd) };
  book.cursor = eventId;
  return delta;
}

/** SchedulerState.budgets: the ledger without its per-lane accounts (those are Lane columns). */
export type SavedBudgets = Omit<LedgerSnapshot, "lanes" | "version"> & UsageBook;

export interface Loaded {
  core: SchedulerCore;
  usage: UsageBook;
  rateLimits: Record<string, RateLimit>;
  queued: number;
  running: number;
  /** Running check processes found at boot (counted in the check pool until they exit). */
  checkProcesses: string[];
}

const RUNNING = new Set(["starting", "running"]);
const outcomeOf = (state: string): Outcome | null => (state === "finished" ? "succeeded" : ["failed", "killed", "lost"].includes(state) ? "failed" : null);
const json = <T>(text: string | null | undefined, fallback: T): T => {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

function dependencyReason(status: DepStatus): WaitReason | undefined {
  if (status.state === "waiting") return { kind: "dependency", laneIds: status.on };
  if (status.state === "blocked") return { kind: "dependency", laneIds: [status.laneId], blockedBy: { laneId: status.laneId, reason: status.reason } };
  return undefined;
}

/** The global agent cap of a cluster whose caps were never set: the nodes' own capacities bound it. */
export const CLUSTER_DEFAULT_AGENT_CAP = 1000;

/**
 * Caps at boot: the saved ones, except that a `--worker-cap` different from the one they were
 * booted with wins for the global agent cap (an operator changed the flag). `workerCap` null
 * (several nodes share the database: each one's flag bounds only that node): the saved caps, set
 * through the API.
 */
function bootCaps(saved: { caps: string; bootWorkerCap: number } | null, workerCap: number | null): CapsConfig {
  const parsed = saved ? CapsConfigSchema.safeParse(json(saved.caps, null)) : null;
  const caps: CapsConfig = parsed?.success ? parsed.data : structuredClone(DEFAULT_CAPS);
  if (workerCap === null) {
    if (!parsed?.success) caps.global.agent = CLUSTER_DEFAULT_AGENT_CAP;
    return caps;
  }
  if (!saved || saved.bootWorkerCap !== workerCap || !parsed?.success) caps.global.agent = workerCap;
  return caps;
}

/**
 * Rebuild the scheduling core from the database (boot). Queued lanes without a `queueSeq` (rows
 * from before the scheduler existed, or a crash between insert and seq write) get one after the
 * highest, in `queuedAt, id` order, written back so every later boot orders them the same.
 * Dependencies on lanes that no longer exist are dropped (logged).
 */
export async function loadScheduler(db: Db, opts: { workerCap: number | null; now: number }): Promise<Loaded> {
  const [rows, saved, checks] = await Promise.all([
    laneSchedRows(db),
    db.schedulerState.findUnique({ where: { id: STATE_ID } }),
    db.process.findMany({ where: { role: "check", status: { in: ["starting", "running"] } }, select: { id: true, lane: { select: { repoId: true } } } }),
  ]);
  const ids = new Set(rows.map((r) => r.id));
  let dropped = 0;
  const nodes: GraphSnapshot["nodes"] = rows.map((r) => {
    const listed = json<string[]>(r.dependsOn, []);
    const deps = listed.filter((d) => ids.has(d));
    dropped += listed.length - deps.length;
    const produced = json<Produced | null>(r.produced, null);
    return {
      laneId: r.id,
      deps,
      mode: r.dependsMode as DependencyMode,
      artifact: json<Artifact | null>(r.artifact, null),
      parentId: r.parentId && ids.has(r.parentId) ? r.parentId : null,
      outcome: outcomeOf(r.state),
      produced: produced ?? (outcomeOf(r.state) === "failed" ? { reason: r.state } : null),
    };
  });
  if (dropped) console.warn(`[scheduler] ${dropped} dependencies on lanes that no longer exist were dropped`);
  const fairness = json<Partial<QueueSnapshot>>(saved?.fairness, {});
  let nextSeq = fairness.nextSeq ?? 0;
  for (const r of rows) if (r.queueSeq !== null) nextSeq = Math.max(nextSeq, r.queueSeq + 1);
  const queuedRows = rows
    .filter((r) => r.state === "queued")
    .sort((a, b) => (a.queueSeq ?? Infinity) - (b.queueSeq ?? Infinity) || a.queuedAt.getTime() - b.queuedAt.getTime() || (a.id < b.id ? -1 : 1));
  const assigned: Array<{ id: string; seq: number }> = [];
  for (const r of queuedRows) if (r.queueSeq === null) assigned.push({ id: r.id, seq: (r.queueSeq = nextSeq++) });
  if (assigned.length) await db.$transaction(assigned.map((a) => db.lane.update({ where: { id: a.id }, data: { queueSeq: a.seq } })));

  const budgets = json<Partial<SavedBudgets>>(saved?.budgets, {});
  const ledger: LedgerSnapshot = {
    version: 1,
    lanes: rows.map((r) => ({
      laneId: r.id,
      repoId: r.repoId,
      parentId: r.parentId && ids.has(r.parentId) ? r.parentId : null,
      budget: json<Budget | null>(r.budget, null),
      used: { tokens: r.usedTokens, costUsd: r.usedCostUsd },
    })),
    repos: budgets.repos ?? [],
    day: budgets.day ?? null,
    dayBudget: budgets.dayBudget ?? null,
    dayUsed: budgets.dayUsed ?? { tokens: 0, costUsd: 0 },
    repoDayUsed: budgets.repoDayUsed ?? {},
  };
  // The graph first: queued lanes enter the queue parked on their dependency status.
  const graph = DependencyGraph.restore({ version: 1, nodes });
  const items: QueueSnapshot["items"] = queuedRows.map((r) => {
    const item: QueueItem & { parked?: WaitReason } = {
      laneId: r.id,
      repoId: r.repoId,
      pool: r.pool as Pool,
      priority: r.priority,
      deadline: r.deadline?.getTime() ?? null,
      enqueuedAt: r.queuedAt.getTime(),
      seq: r.queueSeq!,
      engine: r.engine || null,
    };
    const parked = dependencyReason(graph.status(r.id));
    return parked ? { ...item, parked } : item;
  });
  const core = new SchedulerCore({
    caps: bootCaps(saved, opts.workerCap),
    queue: DispatchQueue.restore({ nextSeq, items, fairness: fairness.fairness, weights: fairness.weights }),
    graph,
    ledger: BudgetLedger.restore(ledger, { clone: false }),
  });
  const rateLimits: Record<string, RateLimit> = {};
  for (const [engine, limit] of Object.entries(json<Record<string, unknown>>(saved?.rateLimits, {}))) {
    const l = RateLimitSchema.safeParse(limit);
    if (!l.success) continue;
    rateLimits[engine] = l.data;
    core.limiter.configure(engine, l.data, opts.now);
  }
  let running = 0;
  for (const r of rows) {
    if (!RUNNING.has(r.state)) continue;
    core.started(r.id, r.repoId, r.pool as Pool);
    running++;
  }
  for (const p of checks) core.capacity.started(checkProcessKey(p.id), p.lane?.repoId ?? "", "check");
  return {
    core,
    usage: { workers: budgets.workers ?? {}, cursor: budgets.cursor ?? 0 },
    rateLimits,
    queued: items.length,
    running,
    checkProcesses: checks.map((p) => p.id),
  };
}

/** Capacity id of a check process found running at boot. */
export const checkProcessKey = (processId: string): string => `process:${processId}`;

/** Writes of the scheduler's state. Callers serialize them (the scheduler's one chain). */
export class SchedulerStore {
  constructor(private readonly db: Db) {}

  /** Create or replace the whole SchedulerState row. */
  async saveAll(core: SchedulerCore, extra: { workerCap: number | null; rateLimits: Record<string, RateLimit>; usage: UsageBook }): Promise<void> {
    const data = {
      fairness: this.#fairness(core),
      caps: JSON.stringify(core.capacity.caps),
      bootWorkerCap: extra.workerCap ?? 0,
      rateLimits: JSON.stringify(extra.rateLimits),
      budgets: this.#budgets(core, extra.usage),
    };
    await this.db.schedulerState.upsert({ where: { id: STATE_ID }, create: { id: STATE_ID, ...data }, update: data });
  }

  /** The fair-share tags, weights and next seq as saved (JSON). */
  fairnessJson(core: SchedulerCore): string {
    return this.#fairness(core);
  }

  /** Save {@link fairnessJson}'s result. */
  async saveFairness(json: string): Promise<void> {
    await this.db.schedulerState.update({ where: { id: STATE_ID }, data: { fairness: json } });
  }

  async saveCaps(caps: CapsConfig): Promise<void> {
    await this.db.schedulerState.update({ where: { id: STATE_ID }, data: { caps: JSON.stringify(caps) } });
  }

  async saveRateLimits(limits: Record<string, RateLimit>): Promise<void> {
    await this.db.schedulerState.update({ where: { id: STATE_ID }, data: { rateLimits: JSON.stringify(limits) } });
  }

  /**
   * After usage was recorded: the `used` columns of the lane and its ancestors and the
   * repo/day budgets with the usage book, in one transaction.
   */
  async saveUsage(core: SchedulerCore, laneIds: string[], usage: UsageBook, now: number): Promise<void> {
    const used = laneIds.map((id) => ({ id, t: core.ledger.usage("lane", id, now) }));
    await this.db.$transaction([
      ...used.map(({ id, t }) => this.db.lane.update({ where: { id }, data: { usedTokens: Math.round(t.tokens), usedCostUsd: t.costUsd } })),
      this.db.schedulerState.update({ where: { id: STATE_ID }, data: { budgets: this.#budgets(core, usage) } }),
    ]);
  }

  async saveBudgets(core: SchedulerCore, usage: UsageBook): Promise<void> {
    await this.db.schedulerState.update({ where: { id: STATE_ID }, data: { budgets: this.#budgets(core, usage) } });
  }

  #fairness(core: SchedulerCore): string {
    const { fairness, weights, nextSeq } = core.queue.snapshotFairness();
    return JSON.stringify({ fairness, weights, nextSeq });
  }

  #budgets(core: SchedulerCore, usage: UsageBook): string {
    const saved: SavedBudgets = { ...core.ledger.sharedSnapshot(), ...usage };
    return JSON.stringify(saved);
  }
}

export type { Totals };

/** A queued lane's scheduling fields as its row stores them (a deadline already past is dropped). */
export function schedulingOfRow(lane: Lane, now: number): LaneScheduling {
  return {
    pool: lane.pool as Pool,
    priority: lane.priority,
    deadline: lane.deadline && lane.deadline.getTime() > now ? lane.deadline.getTime() : null,
    dependsOn: json<string[]>(lane.dependsOn, []),
    mode: lane.dependsMode as DependencyMode,
    artifact: json<Artifact | null>(lane.artifact, null) ?? undefined,
    budget: json<Budget | null>(lane.budget, null) ?? undefined,
    parentId: lane.parentId ?? undefined,
  };
}

/**
 * Put a `queued` lane the core does not hold into its queue, from its row, and store its queue
 * seq: submitted with its dependencies when the core has never seen it (created on another node,
 * or while a new leader opened its scheduler), requeued when it knows it settled (restarted on
 * another node, or by a path other than the scheduler's own requeue).
 * @returns the core's events to append; null when the row is gone or no longer queued, or the
 *   core already queues the lane or counts it starting (dispatched, its row not written yet)
 */
export async function queueFromRow(db: Db, core: SchedulerCore, laneId: string, now: number): Promise<SchedulerEvent[] | null> {
  const held = () => core.queue.has(laneId) || core.capacity.isRunning(laneId);
  if (held()) return null;
  const lane = await db.lane.findUnique({ where: { id: laneId } });
  if (lane?.state !== "queued" || held()) return null;
  const s = schedulingOfRow(lane, now);
  const at = lane.queuedAt.getTime();
  const events = core.graph.has(laneId)
    ? core.requeue({ laneId, repoId: lane.repoId, engine: lane.engine, scheduling: { pool: s.pool, priority: s.priority, deadline: s.deadline } }, at)
    : core.submit({ laneId, repoId: lane.repoId, engine: lane.engine, scheduling: s }, at);
  await db.lane.update({ where: { id: laneId }, data: { queueSeq: core.queue.get(laneId)!.seq } });
  return events;
}
