/**
 * The scheduling core as one pure object for the runtime to drive: it wires the
 * {@link DispatchQueue}, {@link CapacityTracker}, {@link DependencyGraph}, {@link BudgetLedger}
 * and {@link RateLimiter}, validates API input before touching anything (a rejected call leaves
 * every part unchanged), and returns every decision as a {@link SchedulerEvent} for the caller
 * to append to the event log (see {@link toLaneEvent}). No I/O; `now` (epoch ms) is passed in.
 *
 * Intended integration (the runtime owns persistence):
 * - create lane → `submit` (or `submitBatch` for fan-out/fan-in), persist the scheduling fields
 *   and `seq` on the Lane row, append the events;
 * - dispatch pass → `dispatch(now)`; for each start do the guarded `queued → starting` update
 *   (a lost race means: call `settled(id, "failed")` or re-`submit`); a crash between pick and
 *   update leaves the lane `queued`, so the rebuilt queue offers it again — never twice started;
 * - process exit → `settled`; usage report → `recordUsage` (stop lanes named in
 *   `budget_exceeded` events with failure class `budget_exceeded`); restart → `requeue`;
 * - boot → `SchedulerCore.restore(snapshot)` (or from Lane rows) then `started` for every lane
 *   the supervisor reattached. Persist `snapshot().queue.fairness` with each dispatch so the
 *   fair-share order after a restart is exactly the one before.
 */
import { z } from "zod";
import type { NewLaneEvent } from "@/lib/lane-events";
import { AppError, isAppError } from "@/lib/errors";
import { describeWait } from "@/lib/scheduling";
import { parseOrThrow } from "@/lib/validate";
import { BudgetLedger, type BudgetBreach, type LedgerSnapshot } from "./budgets";
import type { CapsConfig } from "@/lib/scheduling";
import { CapacityTracker, DEFAULT_CAPS } from "./capacity";
import { DependencyGraph, type DepStatus, type GraphSnapshot, type Produced, type Outcome, type StatusChanges } from "./dependency-graph";
import { DispatchQueue, type DispatchDecision, type Explanation, type QueueSnapshot } from "./dispatch-queue";
import { RateLimiter, type BackoffOptions } from "./rate-limiter";
import { IdSchema, laneSchedulingSchema, parseLaneScheduling, type LaneScheduling, type LaneSchedulingInput, type UsageInput } from "./schemas";
import type { CapacityView, QueueItem, WaitReason } from "./types";

export { describeWait } from "@/lib/scheduling";

export interface LaneSubmission {
  laneId: string;
  repoId: string;
  /** Engine whose rate limit gates the start; null for checks and background work. */
  engine?: string | null;
  scheduling?: LaneSchedulingInput;
}

export type SchedulerEvent =
  | { type: "scheduler.queued"; laneId: string; repoId: string; item: QueueItem; waitingFor: WaitReason; position: number | null }
  | { type: "scheduler.dispatched"; laneId: string; repoId: string; decision: DispatchDecision }
  | { type: "scheduler.waiting"; laneId: string; repoId: string; waitingFor: WaitReason }
  | { type: "scheduler.released"; laneId: string; repoId: string }
  | { type: "scheduler.blocked"; laneId: string; repoId: string; dep: string; reason: string }
  | { type: "scheduler.budget_exceeded"; laneId: string; repoId: string; breach: BudgetBreach }
  | { type: "scheduler.caps_changed"; laneId: null; repoId: null; caps: CapsConfig };

export interface CoreSnapshot {
  version: 1;
  queue: QueueSnapshot;
  graph: GraphSnapshot;
  ledger: LedgerSnapshot;
  caps: CapsConfig;
}

const SubmissionIdsSchema = z.object({ laneId: IdSchema, repoId: IdSchema, engine: z.string().min(1).max(100).nullable() });
const RequeueSchema = (now: number) => laneSchedulingSchema({ now }).pick({ pool: true, priority: true, deadline: true });

const budgetReason = (b: BudgetBreach | null): WaitReason | null => b && { kind: "budget", ...b };

function dependencyReason(s: DepStatus): WaitReason | null {
  if (s.state === "waiting") return { kind: "dependency", laneIds: s.on };
  if (s.state === "blocked") return { kind: "dependency", laneIds: [s.laneId], blockedBy: { laneId: s.laneId, reason: s.reason } };
  return null;
}

/**
 * What the dispatch queue asks about free slots (`capacity`, per pool and repo) and engine rate
 * limits (`limiter`: the epoch ms an engine may start again, or null if it may now), without the
 * budget gates. Reads both on every call, so changed caps and backoffs take effect at once.
 */
export function slotsAndRatesView(capacity: CapacityTracker, limiter: RateLimiter): CapacityView {
  return {
    globalFree: (pool) => capacity.globalFree(pool),
    repoFree: (pool, repoId) => capacity.repoFree(pool, repoId),
    engineRetryAt: (engine, now) => {
      const at = limiter.nextAllowedAt(engine, now);
      return at > now ? at : null;
    },
  };
}

export class SchedulerCore {
  readonly queue: DispatchQueue;
  readonly graph: DependencyGraph;
  readonly ledger: BudgetLedger;
  readonly capacity: CapacityTracker;
  readonly limiter: RateLimiter;
  #stopping = new Set<string>();
  readonly view: CapacityView;

  constructor(parts: { caps?: CapsConfig; backoff?: BackoffOptions; queue?: DispatchQueue; graph?: DependencyGraph; ledger?: BudgetLedger } = {}) {
    this.queue = parts.queue ?? new DispatchQueue();
    this.graph = parts.graph ?? new DependencyGraph();
    this.ledger = parts.ledger ?? new BudgetLedger();
    this.capacity = new CapacityTracker(parts.caps ?? DEFAULT_CAPS);
    this.limiter = new RateLimiter(parts.backoff);
    this.view = {
      ...slotsAndRatesView(this.capacity, this.limiter),
      repoBlock: (repoId, now) => budgetReason(this.ledger.repoExceeded(repoId, now)),
      laneBlock: (item) => (this.ledger.hasLane(item.laneId) ? budgetReason(this.ledger.laneExceeded(item.laneId)) : null),
    };
  }

  /**
   * Queue a new lane. Its `scheduler.queued` event carries its position, which costs one
   * O(n log n) order simulation of its pool (~10 ms at 10 000 queued); batch bulk creation.
   * @throws AppError (field named) with nothing changed.
   */
  submit(lane: LaneSubmission, now: number): SchedulerEvent[] {
    return this.submitBatch([lane], now);
  }

  /**
   * Queue several new lanes at once; they may depend on each other (fan-out children and their
   * join lane). All or nothing. Fields of the i-th lane are named `[i].<field>` when i > 0.
   */
  submitBatch(lanes: LaneSubmission[], now: number): SchedulerEvent[] {
    const ids = new Set(lanes.map((l) => l.laneId));
    const parsed = lanes.map((l, i) => {
      const at = (f: string) => (lanes.length > 1 ? `[${i}].${f}` : f);
      const s = this.#parse(l, now, lanes.length > 1 ? `[${i}].` : "");
      if (this.queue.has(l.laneId) || this.graph.has(l.laneId) || this.ledger.hasLane(l.laneId) || ids.size < lanes.length)
        throw new AppError("conflict", `${at("laneId")}: lane ${l.laneId} is already scheduled (or twice in this batch)`, { fields: [at("laneId")] });
      if (s.parentId && !this.ledger.hasLane(s.parentId) && !ids.has(s.parentId)) throw new AppError("invalid_input", `${at("parentId")}: no lane ${s.parentId}`, { fields: [at("parentId")] });
      return { ...l, s };
    });
    this.graph.addBatch(parsed.map((l) => ({ laneId: l.laneId, deps: l.s.dependsOn, mode: l.s.mode, artifact: l.s.artifact, parentId: l.s.parentId })));
    const events: SchedulerEvent[] = [];
    const registered = new Set<string>();
    const register = (l: (typeof parsed)[number]): void => {
      if (registered.has(l.laneId)) return;
      const parent = parsed.find((p) => p.laneId === l.s.parentId);
      if (parent) register(parent);
      this.ledger.registerLane(l.laneId, { repoId: l.repoId, parentId: l.s.parentId, budget: l.s.budget });
      registered.add(l.laneId);
    };
    const items = parsed.map((l) => {
      register(l);
      return this.queue.enqueue(
        { laneId: l.laneId, repoId: l.repoId, pool: l.s.pool, priority: l.s.priority, deadline: l.s.deadline, enqueuedAt: now, engine: l.engine ?? null },
        dependencyReason(this.graph.status(l.laneId)) ?? undefined,
      );
    });
    // Positions after the whole batch: one O(n log n) simulation per pool, not one per lane.
    for (const item of items) events.push({ type: "scheduler.queued", laneId: item.laneId, repoId: item.repoId, item, ...this.#where(item.laneId, now) });
    return events;
  }

  /**
   * Requeue a settled lane (restart): it and its dependants wait on their dependencies again.
   * @throws AppError naming `pool`, `priority` or `deadline`; conflict if it is queued.
   */
  requeue(lane: { laneId: string; repoId: string; engine?: string | null; scheduling?: z.input<ReturnType<typeof RequeueSchema>> }, now: number): SchedulerEvent[] {
    const { laneId, repoId } = lane;
    const s = parseOrThrow(RequeueSchema(now), lane.scheduling ?? {});
    if (this.queue.has(laneId)) throw new AppError("conflict", `lane ${laneId} is already queued`, { fields: ["laneId"] });
    this.capacity.finished(laneId);
    this.#stopping.delete(laneId);
    const known = this.graph.has(laneId);
    const changes = known ? this.graph.reopen(laneId) : { ready: [], waiting: [], blocked: [] };
    const item = this.queue.enqueue(
      { laneId, repoId, pool: s.pool, priority: s.priority, deadline: s.deadline, enqueuedAt: now, engine: lane.engine ?? null },
      (known && dependencyReason(this.graph.status(laneId))) || undefined,
    );
    if (!this.ledger.hasLane(laneId)) this.ledger.registerLane(laneId, { repoId });
    return [{ type: "scheduler.queued", laneId, repoId, item, ...this.#where(laneId, now) }, ...this.#apply(changes, laneId)];
  }

  /**
   * Choose every lane that may start now (at most `max`), counting each as running and taking
   * one rate-limit token for its engine. The caller starts them in order.
   */
  dispatch(now: number, max = Number.POSITIVE_INFINITY): { starts: QueueItem[]; events: SchedulerEvent[] } {
    const starts: QueueItem[] = [];
    const events: SchedulerEvent[] = [];
    const held = (): void => {
      for (const p of this.queue.takeGateParked()) events.push({ type: "scheduler.waiting", laneId: p.laneId, repoId: this.queue.get(p.laneId)!.repoId, waitingFor: p.waitingFor });
    };
    while (starts.length < max) {
      const r = this.queue.next(this.view, now);
      held();
      if (!r) break;
      this.capacity.started(r.item.laneId, r.item.repoId, r.item.pool);
      if (r.item.engine) this.limiter.tryAcquire(r.item.engine, now);
      starts.push(r.item);
      events.push({ type: "scheduler.dispatched", laneId: r.item.laneId, repoId: r.item.repoId, decision: r.decision });
    }
    return { starts, events };
  }

  /** Count an already running lane (boot: reattached processes). */
  started(laneId: string, repoId: string, pool: QueueItem["pool"]): void {
    this.queue.remove(laneId);
    this.capacity.started(laneId, repoId, pool);
  }

  /** A lane ended (or a queued lane was killed): free its slot, update its dependants. */
  settled(laneId: string, outcome: Outcome, produced: Produced = {}): SchedulerEvent[] {
    this.capacity.finished(laneId);
    this.queue.remove(laneId);
    this.#stopping.delete(laneId);
    if (!this.graph.has(laneId)) return [];
    return this.#apply(this.graph.onSettled(laneId, outcome, produced), null);
  }

  /**
   * Add an engine's usage report. Running lanes whose budget (own, ancestor, repo, day) is now
   * spent are named once each in `scheduler.budget_exceeded` events: stop them gracefully.
   */
  recordUsage(laneId: string, usage: UsageInput, now: number): SchedulerEvent[] {
    this.ledger.record(laneId, usage, now);
    const events: SchedulerEvent[] = [];
    for (const id of this.#runningWithAccounts()) {
      if (this.#stopping.has(id)) continue;
      const breach = this.ledger.exceeded(id, now);
      if (!breach) continue;
      this.#stopping.add(id);
      events.push({ type: "scheduler.budget_exceeded", laneId: id, repoId: this.#repoOf(id), breach });
    }
    return events;
  }

  /** Change caps (validated; running work untouched). */
  setCaps(update: unknown): SchedulerEvent[] {
    return [{ type: "scheduler.caps_changed", laneId: null, repoId: null, caps: this.capacity.setCaps(update) }];
  }

  /** Change a lane's budget; releases it if it was parked on a budget that is no longer spent. */
  setLaneBudget(laneId: string, budget: unknown): SchedulerEvent[] {
    this.ledger.setLaneBudget(laneId, budget);
    return this.#releaseBudgetParked();
  }

  /** Change a queued lane's priority/deadline. @throws AppError naming the field. */
  reprioritize(laneId: string, patch: { priority?: number; deadline?: number | string | null }, now: number): QueueItem {
    const item = this.queue.get(laneId);
    if (!item) throw new AppError("not_found", `lane ${laneId} is not queued`, { fields: ["laneId"] });
    const s = parseOrThrow(laneSchedulingSchema({ now, laneId }).pick({ priority: true, deadline: true }).partial(), patch);
    return this.queue.update(laneId, s);
  }

  /**
   * Replace a queued lane's dependencies (and/or mode, artifact). The lane is parked or released
   * to match its new status; lanes that depend on it are recomputed.
   * @throws DependencyCycleError naming the cycle; AppError invalid_input naming `dependsOn.<i>`
   *   (self, duplicate, unknown lane); not_found if the lane is not queued. Nothing changes then.
   */
  redepend(laneId: string, patch: { dependsOn?: string[]; mode?: LaneScheduling["mode"]; artifact?: LaneScheduling["artifact"] | null }, now: number): SchedulerEvent[] {
    const item = this.queue.get(laneId);
    if (!item) throw new AppError("not_found", `lane ${laneId} is not queued`, { fields: ["laneId"] });
    const known = this.graph.has(laneId);
    const s = parseOrThrow(laneSchedulingSchema({ now, laneId }).pick({ dependsOn: true, mode: true }).partial(), { dependsOn: patch.dependsOn, mode: patch.mode });
    const changes = this.graph.addBatch([
      {
        laneId,
        deps: s.dependsOn ?? (known ? this.graph.dependencies(laneId) : []),
        mode: s.mode ?? (known ? this.graph.mode(laneId) : "wait_all"),
        artifact: patch.artifact === undefined ? (known ? this.graph.artifact(laneId) : null) : patch.artifact,
        parentId: known ? this.graph.parentOf(laneId) : null,
      },
    ]);
    const events = this.#apply(changes, laneId);
    const reason = dependencyReason(this.graph.status(laneId));
    if (reason) this.queue.park(laneId, reason);
    else if (item.parked?.kind === "dependency") this.queue.release(laneId);
    events.unshift({ type: "scheduler.queued", laneId, repoId: item.repoId, item: this.queue.get(laneId)!, ...this.#where(laneId, now) });
    return events;
  }

  /** Where a queued lane stands and why it waits; null if it is not queued. */
  explain(laneId: string, now: number): Explanation | null {
    return this.queue.explain(laneId, this.view, now);
  }

  snapshot(): CoreSnapshot {
    return { version: 1, queue: this.queue.snapshot(), graph: this.graph.snapshot(), ledger: this.ledger.snapshot(), caps: this.capacity.caps };
  }

  /** Rebuild after a restart; then call {@link started} for each lane still running. */
  static restore(snap: CoreSnapshot, opts: { backoff?: BackoffOptions } = {}): SchedulerCore {
    return new SchedulerCore({
      caps: snap.caps,
      backoff: opts.backoff,
      queue: DispatchQueue.restore(snap.queue),
      graph: DependencyGraph.restore(snap.graph),
      ledger: BudgetLedger.restore(snap.ledger),
    });
  }

  /** Validate ids and scheduling fields; with a batch `prefix` (`[i].`) the fields are named with it. */
  #parse(l: LaneSubmission, now: number, prefix: string): LaneScheduling {
    try {
      parseOrThrow(SubmissionIdsSchema, { laneId: l.laneId, repoId: l.repoId, engine: l.engine ?? null });
      return parseLaneScheduling({ now, laneId: l.laneId }, l.scheduling ?? {});
    } catch (err) {
      if (!prefix || !isAppError(err)) throw err;
      const fields = ((err.details?.fields as string[]) ?? []).map((f) => prefix + f);
      throw new AppError(err.code, err.message.split("; ").map((m) => prefix + m).join("; "), { fields });
    }
  }

  #where(laneId: string, now: number): { waitingFor: WaitReason; position: number | null } {
    const e = this.queue.explain(laneId, this.view, now)!;
    return { waitingFor: e.waitingFor, position: e.position };
  }

  /** Turn dependency status changes into queue parks/releases and events. */
  #apply(changes: StatusChanges, skip: string | null): SchedulerEvent[] {
    const events: SchedulerEvent[] = [];
    for (const id of changes.ready) {
      if (id !== skip && this.queue.get(id)?.parked?.kind === "dependency" && this.queue.release(id))
        events.push({ type: "scheduler.released", laneId: id, repoId: this.#repoOf(id) });
    }
    for (const id of changes.waiting) {
      const reason = dependencyReason(this.graph.status(id));
      if (id !== skip && reason && this.queue.park(id, reason)) events.push({ type: "scheduler.waiting", laneId: id, repoId: this.#repoOf(id), waitingFor: reason });
    }
    for (const b of changes.blocked) {
      const reason = dependencyReason(this.graph.status(b.laneId));
      if (reason) this.queue.park(b.laneId, reason);
      events.push({ type: "scheduler.blocked", laneId: b.laneId, repoId: this.#repoOf(b.laneId), dep: b.dep, reason: b.reason });
    }
    return events;
  }

  #releaseBudgetParked(): SchedulerEvent[] {
    const events: SchedulerEvent[] = [];
    for (const p of this.queue.parked()) {
      if (p.waitingFor.kind !== "budget" || this.ledger.laneExceeded(p.laneId)) continue;
      this.queue.release(p.laneId);
      events.push({ type: "scheduler.released", laneId: p.laneId, repoId: this.#repoOf(p.laneId) });
    }
    return events;
  }

  #runningWithAccounts(): string[] {
    return this.capacity.runningIds().filter((id) => this.ledger.hasLane(id));
  }

  #repoOf(laneId: string): string {
    return this.queue.get(laneId)?.repoId ?? this.ledger.repoOf(laneId) ?? "";
  }
}

/**
 * Map a scheduler event onto the lane event catalog (lib/lane-events.ts): waits and positions
 * are `lane.queued`, a failed dependency is `lane.blocked`, everything else (starts, caps,
 * budget stops) is a `scheduler.decision`. `where` supplies the current position of a lane
 * that was just released (the core's event does not carry one).
 */
export function toLaneEvent(e: SchedulerEvent, where?: (laneId: string) => { position: number | null; waitingFor: WaitReason } | null): NewLaneEvent {
  const queued = (w: { position: number | null; waitingFor: WaitReason }): NewLaneEvent => ({
    type: "lane.queued",
    laneId: e.laneId,
    repoId: e.repoId,
    payload: { reason: describeWait(w.waitingFor), position: w.position, waitingFor: w.waitingFor },
  });
  switch (e.type) {
    case "scheduler.queued":
      return queued(where?.(e.laneId) ?? e);
    case "scheduler.waiting":
      return queued({ position: null, waitingFor: e.waitingFor });
    case "scheduler.released":
      return queued(where?.(e.laneId) ?? { position: null, waitingFor: { kind: "turn" } });
    case "scheduler.blocked":
      return { type: "lane.blocked", laneId: e.laneId, repoId: e.repoId, payload: { reason: e.reason, dependency: e.dep } };
    case "scheduler.budget_exceeded":
      return { type: "scheduler.decision", laneId: e.laneId, repoId: e.repoId, payload: { kind: "budget_exceeded", ...e.breach } };
    case "scheduler.dispatched": {
      const d = e.decision;
      return {
        type: "scheduler.decision",
        laneId: e.laneId,
        repoId: e.repoId,
        payload: { kind: "dispatched", pool: d.pool, round: d.round, queuedInPool: d.queuedInPool, passedOver: d.passedOver, held: d.parked },
      };
    }
    case "scheduler.caps_changed":
      return { type: "scheduler.decision", laneId: null, repoId: null, payload: { kind: "caps_changed", caps: e.caps } };
  }
}
