/**
 * The lane starts a dispatch pass requested, run off the scheduler's chain: the pass decides on
 * the chain (the core takes the slots there), but starting a worker takes hundreds of ms (a
 * wrapper process, its records), and whatever queues behind it on the chain (a new lane's submit,
 * a budget change, an exit) would wait that long for nothing. Likewise the git reads a step needs
 * ({@link InFlight}: what a finished lane produced, read before its settle joins the chain).
 */

/** One dispatched lane (the core's `starts` item). */
export interface DispatchedLane {
  laneId: string;
}

export class LaneStarts {
  readonly #inFlight = new InFlight();

  /**
   * Start `items` one after another with `start` (false or a rejection: it did not start; such an
   * item goes to `failed`, where the scheduler frees its slot and, if the lane is still queued —
   * shutting down, a lost race — offers it again). Tracked until done.
   * @returns settles when every item was started or handed to `failed` (never rejects)
   */
  run<T extends DispatchedLane>(items: readonly T[], start: (item: T) => Promise<boolean>, failed: (item: T) => Promise<void>): Promise<void> {
    const done = (async () => {
      for (const item of items) {
        const ok = await start(item).catch((err: unknown) => (console.error(`[scheduler] starting ${item.laneId} failed`, err), false));
        if (!ok) await failed(item).catch((err: unknown) => console.error(`[scheduler] returning ${item.laneId} to the queue failed`, err));
      }
    })();
    this.#inFlight.track(done);
    return done;
  }

  /** Whether no start is in flight. */
  get idle(): boolean {
    return this.#inFlight.idle;
  }

  /** Resolves once the starts in flight now are done. */
  settled(): Promise<void> {
    return this.#inFlight.settled();
  }
}

/** Promises in flight off the chain, which the scheduler's idle() must see settled. */
export class InFlight {
  readonly #running = new Set<Promise<unknown>>();

  /** Keep `p` until it settles (either way). */
  track(p: Promise<unknown>): void {
    this.#running.add(p);
    const done = () => void this.#running.delete(p);
    p.then(done, done);
  }

  get idle(): boolean {
    return this.#running.size === 0;
  }

  /** Resolves once every promise tracked so far has settled; never rejects. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#running);
  }
}
