/**
 * The supervisor's events on their way into the event log. An event the database refuses for a
 * passing reason (a full disk, a database locked past its busy timeout: lib/storage-errors.ts) is
 * kept, in order with those sent after it, and appended once the database takes writes again
 * (retried every `retryMs`, or at once by {@link EventOutbox.flush}); nothing is thrown into the
 * supervisor. Retries run one at a time, so a kept event is written once, never twice.
 *
 * An event refused for any other reason would be refused forever (a payload that does not match
 * its schema): it is logged and dropped, so it cannot hold back every event after it.
 */
import type { NewLaneEvent } from "@/lib/lane-events";
import { storageFailureOf } from "@/lib/storage-errors";

/** Events kept in memory while the database refuses writes; beyond this the oldest are dropped. */
export const MAX_KEPT_EVENTS = 10_000;

export class EventOutbox {
  #kept: NewLaneEvent[] = [];
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;

  /**
   * @param append writes one event (EventLog.append)
   * @param refused told of each error a write was refused with (a full disk is noticed at once)
   */
  constructor(
    private readonly append: (event: NewLaneEvent) => Promise<unknown>,
    private readonly refused: (error: unknown) => void,
    private readonly retryMs = 500,
  ) {}

  /** Events kept, not yet written. */
  get waiting(): number {
    return this.#kept.length;
  }

  /** Write `event` now, or keep it behind those already kept. Never throws. */
  async send(event: NewLaneEvent): Promise<void> {
    if (this.#kept.length === 0 && this.#flushing === null) {
      try {
        await this.append(event);
        return;
      } catch (err) {
        if (!this.#keepable(event, err)) return;
        console.error(`[processes] cannot append ${event.type} yet; kept until it can be written`, (err as Error).message);
      }
    }
    if (this.#kept.push(event) > MAX_KEPT_EVENTS) console.error(`[processes] dropped a kept ${this.#kept.shift()!.type} event (more than ${MAX_KEPT_EVENTS} waiting)`);
    this.#timer ??= setInterval(() => void this.flush(), this.retryMs).unref();
  }

  /** Write what is kept, oldest first, until the database refuses again. Concurrent calls share one run. Never throws. */
  flush(): Promise<void> {
    this.#flushing ??= (async () => {
      while (this.#kept.length > 0) {
        try {
          await this.append(this.#kept[0]!);
        } catch (err) {
          if (this.#keepable(this.#kept[0]!, err)) return; // still refused: next tick
        }
        this.#kept.shift();
      }
      this.stop();
    })().finally(() => (this.#flushing = null));
    return this.#flushing;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** True when `err` is a passing storage refusal (keep the event); else the event is logged as dropped. */
  #keepable(event: NewLaneEvent, err: unknown): boolean {
    this.refused(err);
    if (storageFailureOf(err) !== null) return true;
    console.error(`[processes] dropped a ${event.type} event the event log refuses for good`, err);
    return false;
  }
}
