/**
 * The runtime's one scheduler: drives the pure {@link SchedulerCore} (pools with global and
 * per-repo caps, priority → deadline → age with per-repo fairness, dependencies, budgets, engine
 * rate limits) against the database, the event log and the lane runner.
 *
 * - Every mutation of the core and every scheduler write runs on one serial chain, so dispatch
 *   passes never overlap (caps cannot be overshot) and the persisted state follows the core's.
 *   {@link Scheduler.kick} coalesces pass requests.
 * - Starting a lane is the bus request `lane.start` (answered by the lane runner's guarded
 *   `queued → starting`): a lane is started at most once even if a pass and a restart race.
 * - Settlements are learnt from the bus, not from the runner: a lane leaving `starting`/`running`
 *   frees its pool slot; `lane.finished|failed|killed` settle it in the dependency graph (a finished
 *   lane's commits and changed files, for artifact dependencies, are read from git off the chain);
 *   dependants of a failed lane become blocked (`lane.blocked`). `worker.usage` running totals are
 *   charged as deltas per worker to the lane, its ancestors, its repo and the day; a running lane
 *   whose budget is spent is stopped through the bus request `lane.stop` (it ends `budget_exceeded`).
 * - Durability: Lane rows and the SchedulerState row (scheduler-store.ts); the fair-share state
 *   is saved after every pass, so a restart rebuilds exactly the same queue. Decisions are
 *   events (`scheduler.decision`, `lane.queued`, `lane.blocked`).
 * - {@link Scheduler.acquire} gates work that is not a lane (check runs, background processes)
 *   through the same pools and caps.
 */
import { InFlight, LaneStarts } from "./lane-starts";
import type { LaneEvent } from "@/lib/lane-events";
import { TERMINAL_LANE_STATES, type LaneState } from "@/lib/lane-state";
import type { Pool } from "@/lib/scheduling";
import type { EventBus } from "../events/event-bus";
import { isRemoteEvent, type EventLog } from "../events/event-log";
import type { LaneRow } from "../records/lane-store";
import type { Db } from "../store/db";
import type { Outcome, Produced } from "./dependency-graph";
import { producedOfFinished, producedSinceStart } from "./produced";
import type { LaneScheduling } from "./schemas";
import { SchedulerCore, toLaneEvent, type SchedulerEvent } from "./scheduler-core";
import { SchedulerSettings } from "./scheduler-settings";
import { checkProcessKey, loadScheduler, queueFromRow, SchedulerStore, type UsageBook } from "./scheduler-store";
import { whereIs, type Where } from "./scheduler-views";
import { UsageRecorder } from "./usage-recorder";

export interface SchedulerDeps {
  db: Db;
  events: EventLog;
  /** Events in; the `lane.start` and `lane.stop` requests out (server/events/event-bus.ts). */
  bus: EventBus;
  /** `--worker-cap`: the global agent cap (a changed flag wins over a cap saved at runtime); null
   * when several nodes share the database (the caps saved through the API hold). */
  workerCap: number | null;
  /** Clock in epoch ms (default Date.now). */
  now?: () => number;
}

const SLOT_STATES: ReadonlySet<string> = new Set(["starting", "running"]);
/** Queue keys of non-lane work ({@link Scheduler.acquire}); lane ids never start with it. */
const ACQUIRE_PREFIX = "acquire:";

/** A unit of non-lane work waiting for a slot ({@link Scheduler.acquire}). */
interface Waiter {
  ownerLaneId: string | null;
  grant: () => void;
}

export class Scheduler {
  readonly #core: SchedulerCore;
  readonly #store: SchedulerStore;
  readonly #usage: UsageBook;
  readonly #usageRecorder: UsageRecorder;
  readonly #waiters = new Map<string, Waiter>();
  readonly #off: Array<() => void> = [];
  readonly #now: () => number;
  /** Runtime verbs (caps, limits, budgets, reschedule) and views. */
  readonly settings: SchedulerSettings;
  #tail: Promise<unknown> = Promise.resolve();
  #pendingPass: Promise<void> | null = null;
  readonly #starts = new LaneStarts();
  /** What finished lanes produced, being read before their settle joins the chain (idle() waits for them). */
  readonly #reading = new InFlight();
  #stopped = false;
  #acquired = 0;
  /** Wakes a pass when the earliest rate-limited engine may start again. */
  #retryTimer: NodeJS.Timeout | null = null;
  /** The fair-share state as last saved (JSON), to skip unchanged writes. */
  #savedFairness = "";

  private constructor(
    private readonly deps: SchedulerDeps,
    loaded: Awaited<ReturnType<typeof loadScheduler>>,
  ) {
    this.#core = loaded.core;
    this.#store = new SchedulerStore(deps.db);
    this.#usage = loaded.usage;
    this.#now = deps.now ?? Date.now;
    this.settings = new SchedulerSettings({
      core: this.#core, db: deps.db, store: this.#store, now: this.#now, rateLimits: loaded.rateLimits, usage: this.#usage,
      serial: (fn) => this.#serial(fn),
      emit: (events) => this.#emit(events),
      append: (event) => deps.events.append(event),
      kick: () => void this.kick(),
    });
    this.#usageRecorder = new UsageRecorder({ db: deps.db, bus: deps.bus, core: this.#core, store: this.#store, usage: this.#usage, now: this.#now, emit: (events) => this.#emit(events) });
    this.#off.push(deps.bus.on("lane.event", this.#onLaneEvent));
    const bootChecks = new Set(loaded.checkProcesses);
    this.#off.push(
      deps.bus.on("process.exit", (exit) => {
        if (!bootChecks.delete(exit.processId)) return;
        this.#core.capacity.finished(checkProcessKey(exit.processId));
        void this.kick();
      }),
    );
  }

  /**
   * Rebuild the scheduler from the database (boot): the queue exactly as it was, running lanes
   * counted, usage reports missed while down replayed. Emits `scheduler.decision` `restored`.
   * Call before the supervisor reattaches processes (their exits settle lanes through the bus).
   */
  static async open(deps: SchedulerDeps): Promise<Scheduler> {
    const now = deps.now ?? Date.now;
    const t0 = performance.now();
    const loaded = await loadScheduler(deps.db, { workerCap: deps.workerCap, now: now() });
    const ms = performance.now() - t0;
    const s = new Scheduler(deps, loaded);
    await s.#store.saveAll(s.#core, { workerCap: deps.workerCap, rateLimits: loaded.rateLimits, usage: s.#usage });
    s.#savedFairness = s.#store.fairnessJson(s.#core);
    await s.#serial(() => s.#usageRecorder.replay());
    await deps.events.append({ type: "scheduler.decision", laneId: null, repoId: null, payload: { kind: "restored", queued: loaded.queued, running: loaded.running, ms: Math.round(ms * 10) / 10 } });
    return s;
  }

  /** The scheduler's clock, epoch ms. */
  now(): number {
    return this.#now();
  }

  /** Request a dispatch pass; resolves when the pass covering this request has finished, and the starts it made (run off the chain: ./lane-starts.ts). */
  kick(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return (this.#pendingPass ??= this.#serial(async () => {
      this.#pendingPass = null;
      return this.#pass().catch((err) => (console.error("[scheduler] dispatch failed", err), null));
    }).then((started) => started?.done));
  }

  /** Resolves once every event and request received so far has been applied (the chain is empty) and the lane starts they caused are done. */
  async idle(): Promise<void> {
    for (let t = this.#tail; ; t = this.#tail) {
      await this.#reading.settled();
      await t;
      await this.#starts.settled();
      if (t === this.#tail && this.#starts.idle && this.#reading.idle) return;
    }
  }

  /** Stop starting work; wait for the reads off the chain (each then queues its step), the chain and the starts in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    for (const off of this.#off) off();
    await this.#reading.settled();
    await this.#tail;
    await this.#starts.settled();
  }

  /**
   * Queue a new lane whose row (with its scheduling columns) exists in state `queued`; records
   * its queue seq and appends `lane.queued` (position and reason); a no-op for a lane the core
   * already took from its row ({@link adoptQueued}), queued or started since.
   * @param queuedAt epoch ms, the row's `queuedAt` (its age in the queue).
   * @throws AppError as {@link SchedulerCore.submit} (not expected after {@link validateNewLane}).
   */
  submit(lane: { id: string; repoId: string; engine: string }, s: LaneScheduling, queuedAt: number): Promise<void> {
    return this.#serial(async () => {
      if (this.#core.graph.has(lane.id)) return;
      const events = this.#core.submit({ laneId: lane.id, repoId: lane.repoId, engine: lane.engine, scheduling: s }, queuedAt);
      await this.deps.db.lane.update({ where: { id: lane.id }, data: { queueSeq: this.#core.queue.get(lane.id)!.seq } });
      await this.#emit(events);
    });
  }

  /**
   * Requeue a terminal lane (restart). `transition` does the guarded state write with the data
   * given (queuedAt, queueSeq, deadline, produced reset); a deadline already past is dropped.
   * @returns the row `transition` returned; null if it lost a race (the queue is left as it was).
   */
  requeue(lane: LaneRow, transition: (data: Pick<LaneRow, "queuedAt" | "queueSeq" | "deadline" | "produced">) => Promise<LaneRow | null>): Promise<LaneRow | null> {
    return this.#serial(async () => {
      const now = this.#now();
      const deadline = lane.deadline && lane.deadline.getTime() > now ? lane.deadline.getTime() : null;
      const events = this.#core.requeue({ laneId: lane.id, repoId: lane.repoId, engine: lane.engine, scheduling: { pool: lane.pool as Pool, priority: lane.priority, deadline } }, now);
      const seq = this.#core.queue.get(lane.id)!.seq;
      const row = await transition({ queuedAt: new Date(now), queueSeq: seq, deadline: deadline === null ? null : new Date(deadline), produced: null }).catch((err) => {
        this.#undoRequeue(lane);
        throw err;
      });
      if (!row) {
        this.#undoRequeue(lane);
        return null;
      }
      await this.#emit(events);
      return row;
    });
  }

  /**
   * Wait for a slot in `pool` for work that is not a lane (a check run, a background process),
   * under the same global and per-repo caps and fairness. Resolves with the release function
   * (idempotent): call it when the work ends. Never rejects; after {@link stop} it resolves at once.
   */
  acquire(pool: Pool, opts: { repoId: string; laneId?: string | null; priority?: number }): Promise<() => void> {
    const key = `${ACQUIRE_PREFIX}${pool}:${opts.laneId ?? "-"}:${++this.#acquired}`;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#core.capacity.finished(key);
      void this.kick();
    };
    if (this.#stopped) return Promise.resolve(release);
    return new Promise((resolve) => {
      this.#waiters.set(key, { ownerLaneId: opts.laneId ?? null, grant: () => resolve(release) });
      void this.#serial(async () => {
        this.#core.queue.enqueue({ laneId: key, repoId: opts.repoId, pool, priority: opts.priority ?? 0, deadline: null, enqueuedAt: this.#now(), engine: null });
      }).then(() => this.kick());
    });
  }

  /** The engine reported throttling (HTTP 429 / overloaded): hold its lanes with exponential backoff. */
  reportThrottle(engine: string, retryAfterMs = 0): void {
    this.#core.limiter.onThrottled(engine, this.#now(), retryAfterMs);
    void this.kick();
  }

  /** Where a queued lane stands and why it waits; null if it is not queued. */
  where(laneId: string): Where | null {
    return whereIs(this.#core, laneId, this.#now());
  }

  /** {@link where} for several lanes (those not queued are left out). */
  async whereMany(laneIds: readonly string[]): Promise<Map<string, Where>> {
    const now = this.#now();
    return new Map(laneIds.flatMap((id) => [[id, whereIs(this.#core, id, now)] as const]).filter((e): e is [string, Where] => e[1] !== null));
  }

  /**
   * Queue, from their rows, the `queued` lanes this scheduler does not hold. A new leader calls it
   * once open: a lane created while it opened was written after the rebuild read the queue and
   * submitted before there was a scheduler, and nothing else would queue it. Idempotent.
   */
  async adoptQueued(): Promise<void> {
    const rows = await this.deps.db.lane.findMany({ where: { state: "queued" }, select: { id: true } });
    await Promise.all(rows.filter((r) => !this.#core.queue.has(r.id)).map((r) => this.#adoptNew(r.id)));
  }

  /** Queue a lane another node created or restarted, from its row (one the core queues is left alone). */
  #adoptNew(laneId: string): Promise<void> {
    return this.#serial(() => this.#queueFromRow(laneId));
  }

  async #queueFromRow(laneId: string): Promise<void> {
    const events = await queueFromRow(this.deps.db, this.#core, laneId, this.#now());
    if (!events) return;
    await this.#emit(events);
    void this.kick();
  }

  /** 1-based queue positions of queued lanes (held lanes have none). */
  async queuePositions(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const pool of ["agent", "check", "background"] as const) for (const [id, p] of this.#core.queue.positions(pool)) if (!this.#waiters.has(id)) out.set(id, p);
    return out;
  }

  /**
   * Run `fn` on the chain. Afterwards the fair-share state is saved if it changed: starts advance
   * tags, and so does a repo joining the queue, so a rebuild after any step orders as the live queue.
   */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(async () => {
      try {
        return await fn();
      } finally {
        await this.#saveFairness().catch((err) => console.error("[scheduler] saving the fair-share state failed", err));
      }
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #saveFairness(): Promise<void> {
    const json = this.#store.fairnessJson(this.#core);
    if (json === this.#savedFairness) return;
    await this.#store.saveFairness(json);
    this.#savedFairness = json;
  }

  /** One dispatch pass on the chain (slots taken, events appended, waiters granted); lanes start off it (LaneStarts). */
  async #pass(): Promise<{ done: Promise<void> } | null> {
    if (this.#stopped) return null;
    const { starts, events } = this.#core.dispatch(this.#now());
    this.#armRetry();
    if (starts.length === 0 && events.length === 0) return null;
    await this.#emit(events);
    const lanes = starts.filter((item) => !this.#waiters.has(item.laneId));
    for (const item of starts) this.#waiters.get(item.laneId)?.grant();
    for (const item of starts) this.#waiters.delete(item.laneId);
    const failed = (item: (typeof lanes)[number]) =>
      this.#serial(async () => {
        this.#core.capacity.finished(item.laneId);
        const row = await this.deps.db.lane.findUnique({ where: { id: item.laneId }, select: { state: true } });
        if (row?.state === "queued" && !this.#core.queue.has(item.laneId)) this.#core.queue.reinsert(item);
      });
    return { done: this.#starts.run(lanes, (item) => (this.#stopped ? Promise.resolve(false) : this.deps.bus.request("lane.start", { laneId: item.laneId })), failed) };
  }

  /** If queued work waits for a rate-limited engine, pass again when the earliest one may start. */
  #armRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    if (this.#core.queue.size === 0) return;
    const now = this.#now();
    const at = this.#core.limiter.nextWakeAfter(now);
    if (at === Infinity) return;
    this.#retryTimer = setTimeout(() => void this.kick(), at - now + 1);
    this.#retryTimer.unref();
  }

  /** Append scheduler events as lane events, in order. Events of non-lane work name the lane they belong to. */
  async #emit(events: SchedulerEvent[]): Promise<void> {
    const now = this.#now();
    for (const e of events) {
      const ev = toLaneEvent(e, (id) => whereIs(this.#core, id, now));
      const waiter = this.#waiters.get(e.laneId ?? "");
      if (waiter) ev.laneId = waiter.ownerLaneId;
      else if (e.laneId?.startsWith(ACQUIRE_PREFIX)) continue; // non-lane work no longer waiting
      await this.deps.events.append(ev);
    }
  }

  #onLaneEvent = (ev: LaneEvent): void => {
    if (!ev.laneId) return;
    const laneId = ev.laneId;
    switch (ev.type) {
      case "lane.created":
        // Made on another node, which could not submit it here (several nodes: docs/scale-out.md).
        if (isRemoteEvent(ev)) void this.#adoptNew(laneId);
        return;
      case "lane.state_changed":
        // The slot frees when the worker is done (checks run in the check pool).
        if (SLOT_STATES.has(ev.payload.from) && !SLOT_STATES.has(ev.payload.to) && this.#core.capacity.finished(laneId)) void this.kick();
        // Queued by a path other than requeue (none today): it still gets into the queue.
        if (ev.payload.to === "queued") this.#later(() => this.#queueFromRow(laneId));
        return;
      case "lane.finished":
        return this.#reading.track(producedOfFinished(this.deps.db, laneId).catch(() => null).then((early) => this.#later(() => this.#settle(laneId, "succeeded", undefined, early))));
      case "lane.failed":
        if (ev.payload.failureReason === "rate_limited") this.#later(() => this.#throttled(laneId));
        return this.#later(() => this.#settle(laneId, "failed", `${ev.payload.failureClass}: ${ev.payload.reason}`));
      case "lane.killed":
        return this.#later(() => this.#settle(laneId, "failed", `killed by ${ev.payload.by}`));
      case "worker.usage":
        return this.#later(() => this.#usageRecorder.record(ev));
      default:
        return;
    }
  };

  #later(fn: () => Promise<void>): void {
    void this.#serial(fn).catch((err) => console.error("[scheduler] event handling failed", err));
  }

  /** A lane failed because its engine was rate-limited: back the engine off (its other lanes wait). */
  async #throttled(laneId: string): Promise<void> {
    const lane = await this.deps.db.lane.findUnique({ where: { id: laneId }, select: { engine: true } });
    if (lane) this.reportThrottle(lane.engine);
  }

  /** A lane ended: record what it produced, settle it in the graph, update its dependants. */
  async #settle(laneId: string, outcome: Outcome, reason?: string, early?: { attempt: number; produced: Produced } | null): Promise<void> {
    const { db } = this.deps;
    const lane = await db.lane.findUnique({ where: { id: laneId }, select: { state: true, engine: true, attempt: true, branch: true, baseSha: true, repoId: true } });
    // Restarted meanwhile (or gone): its new attempt is what counts.
    if (!lane || !TERMINAL_LANE_STATES.has(lane.state as LaneState)) return;
    // The repo's path (a second query) only when what it produced was not read before (early).
    const repoPath = async () => (await db.repo.findUniqueOrThrow({ where: { id: lane.repoId }, select: { path: true } })).path;
    const produced: Produced =
      outcome !== "succeeded" ? { reason } : early?.attempt === lane.attempt ? early.produced : await producedSinceStart(db, { id: laneId, branch: lane.branch, baseSha: lane.baseSha, repoPath: await repoPath() });
    await db.lane.update({ where: { id: laneId }, data: { produced: JSON.stringify(produced) } });
    if (outcome === "succeeded") this.#core.limiter.onSuccess(lane.engine);
    for (const [workerId, w] of Object.entries(this.#usage.workers)) if (w.laneId === laneId) delete this.#usage.workers[workerId];
    await this.#emit(this.#core.settled(laneId, outcome, produced));
    void this.kick();
  }

  #undoRequeue(lane: LaneRow): void {
    this.#core.queue.remove(lane.id);
    const produced = lane.produced ? (JSON.parse(lane.produced) as Produced) : {};
    this.#core.settled(lane.id, lane.state === "finished" ? "succeeded" : "failed", produced);
  }
}
