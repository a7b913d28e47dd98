/**
 * Following the lane event log from a cursor: every event after it, in id order, none missing and
 * none twice, then the live ones as they are appended. This is what a server-sent event stream
 * (and anything else that resumes from a cursor) reads.
 *
 * How it stays exact without a query per event: it subscribes to the bus *before* reading the
 * backlog, so an event is either already a row when a page is read (append inserts, then
 * publishes) or arrives on the bus afterwards; events at or below the cursor already sent are
 * dropped. Backlog pages are one indexed query each (1,000 events). Live events are queued in
 * memory; a consumer that falls more than {@link EventFollowerOptions.maxQueued} events behind
 * drops its queue and reads the log again from its cursor, so a slow client costs bounded memory
 * and still misses nothing.
 */
import type { LaneEvent } from "@/lib/lane-events";
import { Wakeup } from "@/lib/wakeup";
import { AppError } from "@/lib/errors";
import type { EventBus } from "./event-bus";
import { matchesFilter, type EventFilter } from "./event-filter";
import type { EventLog } from "./event-log";

export interface EventFollowerOptions {
  /** Events per backlog query (default 1,000). */
  pageSize?: number;
  /** Live events held for a slow consumer before it goes back to reading the log (default 10,000). */
  maxQueued?: number;
}

/**
 * Throw `gone` when `after` points before the oldest event the log still keeps: events between
 * it and the oldest kept one are lost, so resuming from it would silently skip them.
 * @throws AppError("gone") with `details.oldestCursor`: resume from there (the cursor just
 *   below the oldest kept event) knowing what is missing.
 */
export async function assertCursorKept(log: EventLog, after: number): Promise<void> {
  if (after <= 0) return;
  const oldest = await log.oldestId();
  if (oldest !== null && after < oldest - 1) {
    throw new AppError("gone", `cursor ${after} is older than the oldest event kept (${oldest}); resume from ${oldest - 1}`, { oldestCursor: oldest - 1 });
  }
}

/**
 * Batches of events after `after` matching `filter`, each batch in id order, until `signal`
 * aborts (then the iterator returns). Between batches it waits for the next append.
 * The caller checks the cursor with {@link assertCursorKept} first.
 */
export async function* followEvents(
  deps: { log: EventLog; bus: EventBus },
  after: number,
  filter: EventFilter,
  signal: AbortSignal,
  opts: EventFollowerOptions = {},
): AsyncGenerator<LaneEvent[], void, undefined> {
  const pageSize = opts.pageSize ?? 1000;
  const maxQueued = opts.maxQueued ?? 10_000;
  let cursor = after;
  let queue: LaneEvent[] = [];
  let overflowed = false;
  const wakeup = new Wakeup(signal);
  const off = deps.bus.on("lane.event", (event) => {
    if (!matchesFilter(event, filter)) return;
    if (queue.length >= maxQueued) {
      overflowed = true;
      queue = [];
    } else if (!overflowed) queue.push(event);
    wakeup.notify();
  });
  try {
    let fromLog = true;
    while (!signal.aborted) {
      if (fromLog) {
        // Anything queued so far is in the log too (appended before it was published).
        queue = [];
        overflowed = false;
        const page = await deps.log.listAfter(cursor, { ...filter, limit: pageSize });
        if (page.events.length) {
          cursor = page.cursor;
          yield page.events;
        }
        fromLog = page.events.length === pageSize;
        continue;
      }
      if (overflowed) {
        fromLog = true;
        continue;
      }
      if (queue.length) {
        const batch = queue.filter((e) => e.id > cursor);
        queue = [];
        if (batch.length) {
          cursor = batch[batch.length - 1]!.id;
          yield batch;
        }
        continue;
      }
      await wakeup.wait();
    }
  } finally {
    off();
    wakeup.close();
  }
}
