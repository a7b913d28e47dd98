/**
 * The supervisor's events on their way into the event log. An event the database refuses for a
 * passing reason (a full disk, a database locked past its busy timeout) is kept, in order with
 * those sent after it, and appended once the database takes writes again; nothing is thrown into
 * the supervisor. The keeping and retrying is {@link WriteOutbox}'s (server/store/write-outbox.ts);
 * this names the writes as events. The same outbox is open to other writes that must land behind
 * these events ({@link EventOutbox.writes}: the lane runner's, once a worker runs).
 *
 * An event refused for any other reason would be refused forever (a payload that does not match
 * its schema): it is logged and dropped, so it cannot hold back every event after it.
 */
import type { NewLaneEvent } from "@/lib/lane-events";
import { WriteOutbox } from "../store/write-outbox";

export class EventOutbox {
  /** Where the events wait; other writes handed in here land in order with them. */
  readonly writes: WriteOutbox;

  /**
   * @param append writes one event (EventLog.append)
   * @param refused told of each error a write was refused with (a full disk is noticed at once)
   * @param retryMs how often kept events are tried again (ms)
   */
  constructor(
    private readonly append: (event: NewLaneEvent) => Promise<unknown>,
    refused: (error: unknown) => void,
    retryMs = 500,
  ) {
    this.writes = new WriteOutbox({ refused, retryMs, logPrefix: "[processes]" });
  }

  /** Writes (events and others) kept, not yet written. */
  get waiting(): number {
    return this.writes.waiting;
  }

  /** Write `event` now, or keep it behind those already kept. Never throws. */
  send(event: NewLaneEvent): Promise<void> {
    return this.writes.send(`${event.type} event`, () => this.append(event));
  }

  /** Write what is kept, oldest first, until the database refuses again. Concurrent calls share one run. Never throws. */
  flush(): Promise<void> {
    return this.writes.flush();
  }

  stop(): void {
    this.writes.stop();
  }
}
