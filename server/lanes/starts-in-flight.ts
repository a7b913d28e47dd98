/**
 * The lane starts under way on this node (LaneRunner): one per lane at a time, each known until it
 * is over, and when its worker process was spawned.
 *
 * The two moments differ. A start is over once its records are written (worker row, `starting →
 * running`), which the supervisor's outbox holds back while storage refuses writes: on a full disk,
 * for as long as it stays full. Its process exists from the spawn on, so whoever must act on the
 * process (a kill) waits for {@link StartsInFlight.whenSpawned}, never for the records.
 */
interface Start {
  done: Promise<boolean>;
  spawned: Promise<void>;
  markSpawned: () => void;
}

export class StartsInFlight {
  readonly #starts = new Map<string, Start>();

  /**
   * Run `start` for `laneId` unless a start of that lane is under way; then `ifBusy` gets that
   * start's outcome (true: it started the worker). A start is known until it settles.
   */
  run(laneId: string, start: () => Promise<boolean>, ifBusy: (existing: Promise<boolean>) => Promise<boolean>): Promise<boolean> {
    const existing = this.#starts.get(laneId);
    if (existing) return ifBusy(existing.done);
    let markSpawned = (): void => undefined;
    const spawned = new Promise<void>((resolve) => (markSpawned = resolve));
    const entry: Start = { done: Promise.resolve(false), spawned, markSpawned };
    this.#starts.set(laneId, entry);
    entry.done = start().finally(() => {
      markSpawned();
      if (this.#starts.get(laneId) === entry) this.#starts.delete(laneId);
    });
    return entry.done;
  }

  /** The start of `laneId` under way has spawned its worker process (no-op when none is). */
  spawned(laneId: string): void {
    this.#starts.get(laneId)?.markSpawned();
  }

  /** Resolves when the start of `laneId` under way (if any) is over, records included. Never rejects. */
  async whenDone(laneId: string): Promise<void> {
    await this.#starts.get(laneId)?.done.catch(() => undefined);
  }

  /** Resolves once the start of `laneId` under way (if any) has spawned its worker process or is over. */
  async whenSpawned(laneId: string): Promise<void> {
    await this.#starts.get(laneId)?.spawned;
  }
}
