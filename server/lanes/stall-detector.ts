/**
 * Tells "stuck" from "working": a live lane with no output and no lane event for
 * `stallAfterMs` gets `lane.stalled` (and its summary `stalled`), and `lane.stall_ended` as soon
 * as output or an event comes again. Lanes waiting for a person are not watched: queued and
 * ended lanes, and live lanes whose worker waits at a trust prompt, a dialog (`blocked`) or for a
 * prompt (`ready_for_prompt`).
 *
 * Cost, for thousands of lanes: no per-lane timer and no polling of lanes. The watched lanes sit
 * in one `Map` in order of their last activity (an activity deletes and re-inserts its lane, so
 * the oldest is always first): O(1) per output batch or event. One timer is armed for the
 * oldest lane's deadline; when it fires it walks from the front and stops at the first lane
 * that is not overdue, so a tick costs O(lanes that stalled) plus one. `stats` counts both, for
 * the tests that hold this. After a server restart the live lanes are watched again from the
 * restart (their quiet time before it is not counted).
 */
import type { LaneEvent } from "@/lib/lane-events";
import { LIVE_LANE_STATES, type LaneState, type WorkerState } from "@/lib/lane-state";
import type { EventBus } from "../events/event-bus";
import type { EventLog } from "../events/event-log";
import type { Db } from "../store/db";

/** Worker states in which the lane waits for a person or a claw, so silence is expected. */
export const WAITING_WORKER_STATES: ReadonlySet<WorkerState> = new Set(["trust_required", "blocked", "ready_for_prompt"]);

/** Event types the detector itself appends: they are not activity. */
const OWN_EVENTS: ReadonlySet<string> = new Set(["lane.stalled", "lane.stall_ended"]);

export interface StallDetectorDeps {
  db: Db;
  bus: EventBus;
  events: EventLog;
  /** Quiet time after which a lane is stalled (ms); 0 turns detection off. */
  stallAfterMs: number;
  /** Clock (ms); default Date.now. */
  now?: () => number;
}

interface Watched {
  repoId: string | null;
  /** Last output or event (ms). */
  at: number;
}

export class StallDetector {
  /** Watched, not stalled, lanes in order of last activity (oldest first). */
  readonly #quiet = new Map<string, Watched>();
  /** Lanes flagged stalled, with when their quiet time began. */
  readonly #stalled = new Map<string, Watched>();
  /** Live lanes whose worker waits for a person (not watched until it moves on). */
  readonly #waiting = new Map<string, string | null>();
  readonly #now: () => number;
  readonly #offs: Array<() => void> = [];
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  /** For tests: ticks run and lanes examined by them. */
  readonly stats = { ticks: 0, examined: 0 };

  constructor(private readonly deps: StallDetectorDeps) {
    this.#now = deps.now ?? Date.now;
  }

  /** Watch the live lanes found in the database and follow the bus. No-op when detection is off. */
  async start(): Promise<void> {
    if (this.deps.stallAfterMs <= 0) return;
    this.#offs.push(
      this.deps.bus.on("lane.event", this.#onEvent),
      this.deps.bus.on("process.output", (b) => b.laneId && this.#activity(b.laneId)),
      this.deps.bus.on("process.partial", (p) => p.laneId && this.#activity(p.laneId)),
    );
    // Two queries filtered by a join, not by a list of ids (SQLite caps bound parameters).
    const live = { state: { in: [...LIVE_LANE_STATES] } };
    const lanes = await this.deps.db.lane.findMany({ where: live, select: { id: true, repoId: true } });
    const workers = await this.deps.db.worker.findMany({ where: { lane: live }, orderBy: [{ attempt: "asc" }, { createdAt: "asc" }], select: { laneId: true, state: true } });
    const workerState = new Map(workers.map((w) => [w.laneId, w.state as WorkerState]));
    for (const lane of lanes) {
      if (this.#quiet.has(lane.id) || this.#stalled.has(lane.id) || this.#waiting.has(lane.id)) continue; // an event came first
      const worker = workerState.get(lane.id);
      if (worker && WAITING_WORKER_STATES.has(worker)) this.#waiting.set(lane.id, lane.repoId);
      else this.#watch(lane.id, lane.repoId);
    }
  }

  /** Stop the timer and the subscriptions. */
  stop(): void {
    this.#stopped = true;
    for (const off of this.#offs.splice(0)) off();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Whether the lane is flagged stalled now. */
  isStalled(laneId: string): boolean {
    return this.#stalled.has(laneId);
  }

  /** Lanes watched now (quiet or stalled), for tests. */
  get watching(): number {
    return this.#quiet.size + this.#stalled.size;
  }

  #onEvent = (e: LaneEvent): void => {
    if (!e.laneId || OWN_EVENTS.has(e.type)) return;
    if (e.type === "lane.state_changed") {
      if (LIVE_LANE_STATES.has(e.payload.to as LaneState)) {
        if (!this.#waiting.has(e.laneId)) this.#watch(e.laneId, e.repoId);
      } else this.#forget(e.laneId);
      return;
    }
    if (e.type === "worker.state_changed") {
      if (WAITING_WORKER_STATES.has(e.payload.to)) {
        if (this.#quiet.has(e.laneId) || this.#stalled.has(e.laneId)) {
          this.#forget(e.laneId);
          this.#waiting.set(e.laneId, e.repoId);
        }
        return;
      }
      const repoId = this.#waiting.get(e.laneId);
      if (repoId !== undefined) {
        this.#waiting.delete(e.laneId);
        this.#watch(e.laneId, repoId ?? e.repoId);
        return;
      }
    }
    this.#activity(e.laneId);
  };

  #watch(laneId: string, repoId: string | null): void {
    if (this.#stopped) return;
    this.#stalled.delete(laneId);
    this.#quiet.delete(laneId);
    this.#quiet.set(laneId, { repoId, at: this.#now() });
    this.#arm();
  }

  #forget(laneId: string): void {
    this.#quiet.delete(laneId);
    this.#stalled.delete(laneId);
    this.#waiting.delete(laneId);
  }

  /** Output or an event of a lane. O(1). */
  #activity(laneId: string): void {
    const quiet = this.#quiet.get(laneId);
    if (quiet) {
      this.#quiet.delete(laneId);
      quiet.at = this.#now();
      this.#quiet.set(laneId, quiet);
      return;
    }
    const stalled = this.#stalled.get(laneId);
    if (!stalled) return;
    const now = this.#now();
    this.#stalled.delete(laneId);
    this.#quiet.set(laneId, { repoId: stalled.repoId, at: now });
    this.#arm();
    void this.deps.events
      .append({ type: "lane.stall_ended", laneId, repoId: stalled.repoId, payload: { idleMs: now - stalled.at } })
      .catch((err) => console.error(`[stall] ${laneId}:`, err));
  }

  /** Arm the one timer for the oldest lane's deadline, unless it is armed. */
  #arm(): void {
    if (this.#timer || this.#stopped) return;
    const first = this.#quiet.values().next();
    if (first.done) return;
    const delay = Math.max(0, first.value.at + this.deps.stallAfterMs - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.tick();
    }, delay);
    this.#timer.unref();
  }

  /**
   * Flag every overdue lane from the front of the activity order, then re-arm. Run by the
   * detector's timer; callable (tests drive it with their own clock).
   */
  tick(): void {
    if (this.#stopped) return;
    this.stats.ticks++;
    const now = this.#now();
    const after = this.deps.stallAfterMs;
    for (const [laneId, w] of this.#quiet) {
      this.stats.examined++;
      if (now - w.at < after) break;
      this.#quiet.delete(laneId);
      this.#stalled.set(laneId, w);
      void this.deps.events
        .append({ type: "lane.stalled", laneId, repoId: w.repoId, payload: { idleMs: now - w.at, since: new Date(w.at).toISOString(), thresholdMs: after } })
        .catch((err) => console.error(`[stall] ${laneId}:`, err));
    }
    this.#arm();
  }
}
