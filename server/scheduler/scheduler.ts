/**
 * The basic scheduler: a global cap on concurrently live lanes (starting, running or checking).
 * Lanes beyond it wait in state `queued` and start oldest first (`queuedAt`, then id) as slots
 * free up. The queue is the Lane table itself, so it survives a restart unchanged.
 *
 * Dispatch passes are serialized: {@link Scheduler.kick} coalesces requests, and one pass
 * never overlaps another, so the cap cannot be overshot by concurrent kicks.
 */
import { LIVE_LANE_STATES } from "@/lib/lane-state";
import type { Db } from "../store/db";

export interface SchedulerDeps {
  db: Db;
  /** Start a queued lane; resolves false if it was no longer queued. */
  startLane: (laneId: string) => Promise<boolean>;
  workerCap: number;
}

const LIVE = [...LIVE_LANE_STATES];

export class Scheduler {
  #cap: number;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(private readonly deps: SchedulerDeps) {
    this.#cap = deps.workerCap;
  }

  get workerCap(): number {
    return this.#cap;
  }

  /** Change the cap at runtime. Lowering it never stops running lanes; it only delays new starts. */
  setWorkerCap(cap: number): void {
    this.#cap = cap;
    this.kick();
  }

  /** Request a dispatch pass; returns when the pass that covers this request has finished. */
  kick(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#dispatch();
        } while (this.#again && !this.#stopped);
      } catch (err) {
        console.error("[scheduler] dispatch failed", err);
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  async #dispatch(): Promise<void> {
    const { db } = this.deps;
    const live = await db.lane.count({ where: { state: { in: LIVE } } });
    const free = this.#cap - live;
    if (free <= 0) return;
    const next = await db.lane.findMany({
      where: { state: "queued" },
      orderBy: [{ queuedAt: "asc" }, { id: "asc" }],
      take: free,
      select: { id: true },
    });
    for (const { id } of next) {
      if (this.#stopped) return;
      await this.deps.startLane(id);
    }
  }

  /** 1-based queue positions of queued lanes, in dispatch order. */
  async queuePositions(): Promise<Map<string, number>> {
    const queued = await this.deps.db.lane.findMany({
      where: { state: "queued" },
      orderBy: [{ queuedAt: "asc" }, { id: "asc" }],
      select: { id: true },
    });
    return new Map(queued.map((l, i) => [l.id, i + 1]));
  }

  /** Stop starting work; an in-flight pass finishes its current start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }
}
