/**
 * The scheduler's runtime verbs and views behind `/api/v1/scheduler/**` and
 * `/api/v1/lanes/:id/{budget,schedule}`: caps, engine rate limits, repo and daily budgets, a
 * lane's budget, a queued lane's priority/deadline/dependencies. Each verb validates everything
 * before changing anything (a refused call leaves the queue and the database unchanged, and
 * names the field at fault), runs on the scheduler's serial chain, persists, appends a
 * `scheduler.decision` (or `lane.queued`) event, and asks for a dispatch pass. Lowering a cap
 * never stops running work.
 */
import { AppError } from "@/lib/errors";
import type { NewLaneEvent } from "@/lib/lane-events";
import {
  BudgetsUpdateSchema, LaneBudgetBodySchema, QueueQuerySchema, RateLimitsUpdateSchema, ScheduleUpdateSchema, type BudgetsView, type CapsView,
  type LaneScheduleView, type QueueView, type RateLimit,
} from "@/lib/scheduling";
import { parseOrThrow } from "@/lib/validate";
import type { z } from "zod";
import type { Db } from "../store/db";
import { checkDependencies } from "./lane-scheduling";
import type { SchedulerCore, SchedulerEvent } from "./scheduler-core";
import type { SchedulerStore, UsageBook } from "./scheduler-store";
import { budgetsView, capsView, laneScheduleView, laneUsageView, queueView, type LaneSchedulingRow } from "./scheduler-views";

export interface SchedulerSettingsDeps {
  core: SchedulerCore;
  db: Db;
  store: SchedulerStore;
  now: () => number;
  rateLimits: Record<string, RateLimit>;
  usage: UsageBook;
  serial: <T>(fn: () => Promise<T>) => Promise<T>;
  emit: (events: SchedulerEvent[]) => Promise<void>;
  append: (event: NewLaneEvent) => Promise<unknown>;
  kick: () => void;
}

type DecisionPayload = Extract<NewLaneEvent, { type: "scheduler.decision" }>["payload"];

export class SchedulerSettings {
  constructor(private readonly d: SchedulerSettingsDeps) {}

  caps(): CapsView {
    return capsView(this.d.core);
  }

  /**
   * Merge a caps update (`global`, `perRepo`, `repos`; see CapsUpdateSchema).
   * @throws AppError invalid_input naming the field, e.g. `global.agent` for a negative cap.
   */
  setCaps(update: unknown): Promise<CapsView> {
    return this.#change(async () => {
      const events = this.d.core.setCaps(update);
      await this.d.store.saveCaps(this.d.core.capacity.caps);
      await this.d.emit(events);
      return this.caps();
    });
  }

  /**
   * The cluster's lane slots (server/cluster/dispatcher.ts `laneSlots`, counted by the leader's
   * lease watch), or null on one node: lanes are offered only while those running on the cluster
   * leave one free, so a full cluster is not offered every queued lane (each refused by the dispatcher, yet
   * logged as dispatched and taking a fair-share turn and an engine token).
   */
  setNodeSlots(total: number | null): void {
    const { capacity } = this.d.core;
    const before = capacity.globalFree("agent") + capacity.globalFree("background");
    capacity.setNodeSlots(total);
    if (capacity.globalFree("agent") + capacity.globalFree("background") > before) this.d.kick();
  }

  /** Engine → limit and the time its lanes may start again (null = now). */
  rateLimits(): Record<string, { limit: RateLimit | null; retryAt: number | null }> {
    const now = this.d.now();
    return Object.fromEntries(
      Object.keys(this.d.rateLimits).map((engine) => {
        const at = this.d.core.limiter.nextAllowedAt(engine, now);
        return [engine, { limit: this.d.rateLimits[engine] ?? null, retryAt: at > now ? at : null }];
      }),
    );
  }

  /**
   * Set or remove (null) per-engine rate limits (requests per minute; a lane start takes one).
   * @throws AppError invalid_input naming `<engine>.requestsPerMinute` or `<engine>.burst`.
   */
  setRateLimits(update: unknown): Promise<ReturnType<SchedulerSettings["rateLimits"]>> {
    const u = parseOrThrow(RateLimitsUpdateSchema, update);
    return this.#change(async () => {
      const now = this.d.now();
      for (const [engine, limit] of Object.entries(u)) {
        if (limit === null) {
          this.d.core.limiter.unconfigure(engine);
          delete this.d.rateLimits[engine];
        } else {
          this.d.core.limiter.configure(engine, limit, now);
          this.d.rateLimits[engine] = limit;
        }
      }
      await this.d.store.saveRateLimits(this.d.rateLimits);
      await this.#decision({ kind: "rate_limits_changed", limits: u });
      return this.rateLimits();
    });
  }

  budgets(): BudgetsView {
    return budgetsView(this.d.core, this.d.now());
  }

  /**
   * Set repo budgets (`repos[id]`: total and daily; null removes) and the daily budget over all
   * repos. A spent budget holds the repo's queued lanes; raising it releases them.
   * @throws AppError invalid_input naming the field (`repos.<id>.daily.maxCostUsd`, `daily.maxTokens`, `repos.<id>` for an unknown repo).
   */
  async setBudgets(update: unknown): Promise<BudgetsView> {
    const u = parseOrThrow(BudgetsUpdateSchema, update);
    const repoIds = Object.keys(u.repos ?? {});
    const known = new Set((await this.d.db.repo.findMany({ where: { id: { in: repoIds } }, select: { id: true } })).map((r) => r.id));
    const unknown = repoIds.find((id) => !known.has(id));
    if (unknown) throw new AppError("invalid_input", `repos.${unknown}: no repo ${unknown}`, { fields: [`repos.${unknown}`] });
    return this.#change(async () => {
      for (const [repoId, b] of Object.entries(u.repos ?? {})) this.d.core.ledger.setRepoBudget(repoId, b ?? {});
      if (u.daily !== undefined) this.d.core.ledger.setDailyBudget(u.daily);
      await this.d.store.saveBudgets(this.d.core, this.d.usage);
      await this.#decision({ kind: "budget_changed", repos: u.repos, daily: u.daily });
      return this.budgets();
    });
  }

  /**
   * Replace a lane's budget (null = unlimited). A queued lane held by its spent budget is released
   * when the new one is not spent; a running lane is checked at its next usage report.
   * @throws AppError invalid_input naming `budget.<field>`; not_found for an unknown lane.
   */
  async setLaneBudget(laneId: string, body: unknown): Promise<void> {
    const { budget } = parseOrThrow(LaneBudgetBodySchema, body);
    await this.#change(async () => {
      if (!this.d.core.ledger.hasLane(laneId)) throw new AppError("not_found", `no lane with id ${laneId}`);
      const events = this.d.core.setLaneBudget(laneId, budget);
      await this.d.db.lane.update({ where: { id: laneId }, data: { budget: budget ? JSON.stringify(budget) : null } });
      await this.#decision({ kind: "budget_changed", lane: budget }, laneId);
      await this.d.emit(events);
    });
  }

  /**
   * Change a queued lane's priority, deadline, dependencies (mode, artifact). All or nothing.
   * @throws AppError invalid_input naming the field (`priority`, `deadline` in the past,
   *   `dependsOn.<i>` unknown / other repo / self, `dependsOn` for a cycle, naming it);
   *   conflict if the lane is not queued; not_found for an unknown lane.
   */
  async reschedule(laneId: string, body: unknown): Promise<void> {
    const patch: z.infer<typeof ScheduleUpdateSchema> = parseOrThrow(ScheduleUpdateSchema, body);
    const lane = await this.d.db.lane.findUnique({ where: { id: laneId }, select: { state: true, repoId: true } });
    if (!lane) throw new AppError("not_found", `no lane with id ${laneId}`);
    if (patch.dependsOn) await checkDependencies(this.d.db, lane.repoId, patch.dependsOn);
    await this.#change(async () => {
      const now = this.d.now();
      if (!this.d.core.queue.has(laneId)) throw new AppError("conflict", `lane ${laneId} is ${lane.state}; only queued lanes can be rescheduled`);
      if (patch.deadline != null && patch.deadline <= now) throw new AppError("invalid_input", "deadline: must not be in the past", { fields: ["deadline"] });
      // Dependencies first: the only step that can still refuse (cycle), before anything changed.
      const events: SchedulerEvent[] = [];
      if (patch.dependsOn !== undefined || patch.mode !== undefined || patch.artifact !== undefined) {
        events.push(...this.d.core.redepend(laneId, { dependsOn: patch.dependsOn, mode: patch.mode, artifact: patch.artifact }, now).filter((e) => e.laneId !== laneId || e.type !== "scheduler.queued"));
      }
      if (patch.priority !== undefined || patch.deadline !== undefined) this.d.core.reprioritize(laneId, { priority: patch.priority, deadline: patch.deadline }, now);
      await this.d.db.lane.update({
        where: { id: laneId },
        data: {
          ...(patch.priority !== undefined ? { priority: patch.priority } : {}),
          ...(patch.deadline !== undefined ? { deadline: patch.deadline === null ? null : new Date(patch.deadline) } : {}),
          ...(patch.dependsOn !== undefined ? { dependsOn: JSON.stringify(patch.dependsOn) } : {}),
          ...(patch.mode !== undefined ? { dependsMode: patch.mode } : {}),
          ...(patch.artifact !== undefined ? { artifact: patch.artifact ? JSON.stringify(patch.artifact) : null } : {}),
        },
      });
      const item = this.d.core.queue.get(laneId)!;
      const w = this.d.core.explain(laneId, now)!;
      await this.d.emit([{ type: "scheduler.queued", laneId, repoId: item.repoId, item, waitingFor: w.waitingFor, position: w.position }, ...events]);
    });
  }

  /** Queued lanes in dispatch order with position and reason (`GET /api/v1/scheduler/queue`). */
  queue(query: unknown): QueueView {
    return queueView(this.d.core, this.d.now(), parseOrThrow(QueueQuerySchema, query));
  }

  laneSchedule(row: LaneSchedulingRow): LaneScheduleView {
    return laneScheduleView(this.d.core, row, this.d.now());
  }

  /** Just the `used` part of {@link laneSchedule}: it moves with the ledger, the rest only when the row is written. */
  /** Changes whenever any lane's {@link laneUsage} may answer differently. */
  usageVersion(): number {
    return this.d.core.ledger.version;
  }

  laneUsage(row: Pick<LaneSchedulingRow, "id" | "usedTokens" | "usedCostUsd">): LaneScheduleView["used"] {
    return laneUsageView(this.d.core, row, this.d.now());
  }

  /** Run a change on the scheduler's chain, then ask for a dispatch pass. */
  async #change<T>(fn: () => Promise<T>): Promise<T> {
    const result = await this.d.serial(fn);
    this.d.kick();
    return result;
  }

  async #decision(payload: DecisionPayload, laneId: string | null = null): Promise<void> {
    const repoId = laneId ? this.d.core.ledger.repoOf(laneId) : null;
    await this.d.append({ type: "scheduler.decision", laneId, repoId, payload });
  }
}
