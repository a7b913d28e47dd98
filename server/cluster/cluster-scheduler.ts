/**
 * The scheduler as every node sees it when several share a database. One node, the leader
 * (server/cluster/leader.ts), runs the real {@link Scheduler} over every lane of the cluster, so
 * caps, priorities, fairness, dependencies and budgets hold across nodes exactly as on one node;
 * its starts go through the dispatcher (a node with a free slot, via pg-boss). On the other nodes
 * this facade answers the same calls:
 *
 * | call | leader | other nodes |
 * | --- | --- | --- |
 * | submit (new lane) | the scheduler | nothing: the leader adopts the lane from its `lane.created` event |
 * | requeue (restart) | the scheduler | the guarded state write only; the leader adopts it from `lane.state_changed → queued` |
 * | kick | the scheduler | nothing (the leader reacts to the events) |
 * | settings verbs and views, whereMany, reportThrottle | the scheduler | asked of the leader (cluster RPC) |
 * | acquire (check slots) | the scheduler | a ticket at the leader, granted back by RPC; re-sent to a new leader |
 *
 * Leadership can move: {@link ClusterScheduler.lead} opens the scheduler from the database (the
 * same rebuild as a restart), {@link ClusterScheduler.follow} stops it.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { AppError } from "@/lib/errors";
import type { LaneScheduleView } from "@/lib/scheduling";
import type { LaneRow } from "../records/lane-store";
import type { Db } from "../store/db";
import type { LaneScheduling } from "../scheduler/schemas";
import type { Pool } from "../scheduler/schemas";
import { Scheduler, type SchedulerDeps } from "../scheduler/scheduler";
import { SCHEDULER_SETTINGS as SETTINGS, type SchedulerApi, type SettingName, type SettingsApi } from "../scheduler/scheduler-api";
import { laneScheduleView, laneUsageView, type LaneSchedulingRow, type Where } from "../scheduler/scheduler-views";
import type { ClusterRpc } from "../rpc/rpc";

const SettingsCallSchema = z.object({ method: z.enum(SETTINGS), args: z.array(z.unknown()).max(4) });
const AcquireSchema = z.object({ ticket: z.string().min(1), pool: z.enum(["agent", "check", "background"]), repoId: z.string(), laneId: z.string().nullable(), priority: z.number() });
const TicketSchema = z.object({ ticket: z.string().min(1) });

export interface ClusterSchedulerDeps {
  db: Db;
  rpc: ClusterRpc;
  /** Everything the real scheduler needs while this node leads (startLane = the dispatcher). */
  schedulerDeps: () => SchedulerDeps;
  /** The leader's node id now (null: nobody leads). */
  leader: () => Promise<string | null>;
}

export class ClusterScheduler implements SchedulerApi {
  #local: Scheduler | null = null;
  #opening: Promise<Scheduler> | null = null;
  /** Tickets this node waits for, and those it holds. */
  readonly #waiting = new Map<string, { req: z.infer<typeof AcquireSchema>; resolve: (release: () => void) => void }>();
  /** On the leader: tickets of other nodes (granted ones carry their release). */
  readonly #remote = new Map<string, { from: string; release: (() => void) | null }>();
  #retry: NodeJS.Timeout | null = null;
  /** The live nodes' slots, last reported (null: not bounded, one node). */
  #nodeSlots: number | null = null;
  readonly settings: SettingsApi;

  constructor(private readonly deps: ClusterSchedulerDeps) {
    const call = (method: SettingName) => (...args: unknown[]) =>
      this.#local ? (this.#local.settings[method] as (...a: unknown[]) => unknown)(...args) : this.#leaderCall("scheduler.settings", { method, args });
    this.settings = Object.fromEntries(SETTINGS.map((m) => [m, call(m)])) as unknown as SettingsApi;
    this.#handlers();
    this.#retry = setInterval(() => this.#resendWaiting(), 2000);
    this.#retry.unref();
  }

  get isLeading(): boolean {
    return this.#local !== null;
  }

  readonly #leadWaiters: Array<() => void> = [];

  /** Resolves once this node runs the scheduler (at once if it does; never on a node that does not win the lead). */
  leading(): Promise<void> {
    if (this.#local) return Promise.resolve();
    return new Promise((resolve) => this.#leadWaiters.push(resolve));
  }

  /** This node became the leader: rebuild the scheduler from the database and start dispatching. */
  async lead(): Promise<void> {
    if (this.#local || this.#opening) return;
    this.#opening = Scheduler.open(this.deps.schedulerDeps());
    try {
      this.#local = await this.#opening;
    } finally {
      this.#opening = null;
    }
    this.#local.settings.setNodeSlots(this.#nodeSlots);
    // Lanes created while it opened were submitted to no one (see Scheduler.adoptQueued).
    await this.#local.adoptQueued();
    // Waiting tickets of this node now go to its own scheduler.
    this.#resendWaiting();
    await this.#local.kick();
    for (const w of this.#leadWaiters.splice(0)) w();
  }

  /** This node no longer leads: stop the scheduler (another node rebuilds it). */
  async follow(): Promise<void> {
    const local = this.#local ?? (await this.#opening?.catch(() => null)) ?? null;
    this.#local = null;
    for (const r of this.#remote.values()) r.release?.();
    this.#remote.clear();
    await local?.stop();
  }

  /**
   * The cluster's lane slots (dispatcher.ts `laneSlots`, the lease watch's count on the leader):
   * the scheduler offers lanes only while those running leave one free. Kept for a scheduler
   * opened later.
   */
  setNodeSlots(total: number): void {
    this.#nodeSlots = total;
    this.#local?.settings.setNodeSlots(total);
  }

  now(): number {
    return Date.now();
  }

  kick(): Promise<void> {
    return this.#local?.kick() ?? Promise.resolve();
  }

  idle(): Promise<void> {
    return this.#local?.idle() ?? Promise.resolve();
  }

  async submit(lane: { id: string; repoId: string; engine: string }, s: LaneScheduling, queuedAt: number): Promise<void> {
    if (this.#local) return this.#local.submit(lane, s, queuedAt);
  }

  async requeue(lane: LaneRow, transition: (data: Pick<LaneRow, "queuedAt" | "queueSeq" | "deadline" | "produced">) => Promise<LaneRow | null>): Promise<LaneRow | null> {
    if (this.#local) return this.#local.requeue(lane, transition);
    const now = Date.now();
    const deadline = lane.deadline && lane.deadline.getTime() > now ? lane.deadline : null;
    return transition({ queuedAt: new Date(now), queueSeq: null, deadline, produced: null });
  }

  acquire(pool: Pool, opts: { repoId: string; laneId?: string | null; priority?: number }): Promise<() => void> {
    if (this.#local) return this.#local.acquire(pool, opts);
    const ticket = randomUUID();
    const req = { ticket, pool, repoId: opts.repoId, laneId: opts.laneId ?? null, priority: opts.priority ?? 0 };
    return new Promise((resolve) => {
      this.#waiting.set(ticket, { req, resolve });
      this.#send(req);
    });
  }

  reportThrottle(engine: string, retryAfterMs = 0): void {
    if (this.#local) return this.#local.reportThrottle(engine, retryAfterMs);
    void this.#leaderCall("scheduler.throttle", { engine, retryAfterMs }).catch(() => undefined);
  }

  async whereMany(laneIds: readonly string[]): Promise<Map<string, Where>> {
    if (this.#local) return this.#local.whereMany(laneIds);
    if (laneIds.length === 0) return new Map();
    // A board must not fail because the leader is changing: positions are left out then.
    const entries = await this.#leaderCall<Array<[string, Where]>>("scheduler.whereMany", { laneIds }).catch(() => []);
    return new Map(entries);
  }

  laneSchedule(row: LaneSchedulingRow): LaneScheduleView {
    return this.#local ? this.#local.settings.laneSchedule(row) : laneScheduleView(null, row, Date.now());
  }

  usageVersion(): number {
    // Leading or not is part of it: the answer's source switches between the ledger and the row.
    return this.#local ? this.#local.settings.usageVersion() * 2 + 1 : 0;
  }

  laneUsage(row: Pick<LaneSchedulingRow, "id" | "usedTokens" | "usedCostUsd">): LaneScheduleView["used"] {
    return this.#local ? this.#local.settings.laneUsage(row) : laneUsageView(null, row, Date.now());
  }

  /** The scheduler itself while this node leads (tests, views). */
  get local(): Scheduler | null {
    return this.#local;
  }

  /** Release every ticket a lost node held or waited for (its checks died with it). */
  releaseNode(nodeId: string): void {
    for (const [ticket, r] of this.#remote) {
      if (r.from !== nodeId) continue;
      r.release?.();
      this.#remote.delete(ticket);
    }
  }

  async stop(): Promise<void> {
    if (this.#retry) clearInterval(this.#retry);
    await this.follow();
  }

  async #leaderCall<R>(method: string, params: unknown): Promise<R> {
    const leader = await this.deps.leader();
    if (!leader) throw new AppError("unavailable", "no node leads the cluster right now (a new leader is being chosen); try again in a few seconds");
    return this.deps.rpc.call<R>(leader, method, params);
  }

  #send(req: z.infer<typeof AcquireSchema>): void {
    void this.#leaderCall("scheduler.acquire", req).catch(() => undefined);
  }

  /** Tickets not granted yet go (again) to whoever leads now: a new leader never heard of them. */
  #resendWaiting(): void {
    for (const [ticket, w] of this.#waiting) {
      if (!this.#local) {
        this.#send(w.req);
        continue;
      }
      this.#waiting.delete(ticket);
      void this.#local.acquire(w.req.pool, w.req).then(w.resolve);
    }
  }

  #handlers(): void {
    const { rpc } = this.deps;
    const leading = () => {
      if (!this.#local) throw new AppError("unavailable", `node ${rpc.nodeId} no longer leads the cluster`);
      return this.#local;
    };
    rpc.handle("scheduler.settings", SettingsCallSchema, async ({ method, args }) => (leading().settings[method] as (...a: unknown[]) => unknown)(...args));
    rpc.handle("scheduler.whereMany", z.object({ laneIds: z.array(z.string()).max(100_000) }), async ({ laneIds }) => [...(await leading().whereMany(laneIds))]);
    rpc.handle("scheduler.throttle", z.object({ engine: z.string(), retryAfterMs: z.number() }), async ({ engine, retryAfterMs }) => leading().reportThrottle(engine, retryAfterMs));
    rpc.handle("scheduler.acquire", AcquireSchema, async (req, from) => {
      const local = leading();
      if (this.#remote.has(req.ticket)) return null;
      const entry: { from: string; release: (() => void) | null } = { from, release: null };
      this.#remote.set(req.ticket, entry);
      void local.acquire(req.pool, req).then((release) => {
        if (this.#remote.get(req.ticket) !== entry) return release();
        entry.release = release;
        void rpc.call(from, "scheduler.granted", { ticket: req.ticket }).catch(() => {
          release();
          this.#remote.delete(req.ticket);
        });
      });
      return null;
    });
    rpc.handle("scheduler.release", TicketSchema, async ({ ticket }) => {
      this.#remote.get(ticket)?.release?.();
      this.#remote.delete(ticket);
    });
    rpc.handle("scheduler.granted", TicketSchema, async ({ ticket }) => {
      const w = this.#waiting.get(ticket);
      if (!w) throw new AppError("not_found", `no slot is waited for with ticket ${ticket}`);
      this.#waiting.delete(ticket);
      let released = false;
      w.resolve(() => {
        if (released) return;
        released = true;
        void this.#leaderCall("scheduler.release", { ticket }).catch(() => undefined);
      });
    });
  }
}
