/**
 * The events that say why a guarded row write landed (a lane's or a worker's state change),
 * appended so that none is lost when the database refuses them after the write.
 *
 * The write and its events are separate statements, and storage can give out between them: on
 * SQLite the state update rewrites a page in place while the event needs a new one, so with the
 * disk just full the lane stood in its new state with no `lane.state_changed`, and the scheduler,
 * which frees a pool slot from that event, kept the slot taken for good. They are not made one
 * transaction because the better-sqlite3 adapter runs the queries other callers issue meanwhile
 * on the same connection, inside the open transaction: rolling it back would undo their writes too.
 * Instead, what the database refuses for a passing reason (a full disk, a busy database:
 * lib/storage-errors.ts) is handed to the supervisor's outbox (server/store/write-outbox.ts),
 * which appends it, in order with the writes it keeps, as soon as storage takes it again.
 */
import type { LaneEvent, NewLaneEvent } from "@/lib/lane-events";
import { EventAppendCut, type EventLog } from "./event-log";

/** Where refused writes wait (WriteOutbox.send): never throws; tries at once when nothing waits. */
export interface KeptWrites {
  send(what: string, write: () => Promise<unknown>): Promise<void>;
}

/** Deps of a guarded state write: with `supervisor`, its events are kept (not thrown) when refused. */
export interface StateWriteDeps {
  events: EventLog;
  /** The process supervisor (or anything with its outbox); absent, a refused append throws. */
  supervisor?: { readonly writes: KeptWrites };
}

/**
 * Append `events` (published together, as {@link EventLog.appendAll}) after the row write they
 * describe has landed. With an outbox, a refusal keeps those not yet stored (none doubled: an
 * {@link EventAppendCut} says how many were) until storage takes them; resolves once they are
 * stored or kept. @param what names them in log lines
 * @returns the events stored by then, with their ids: all of them, or none when storage refused
 *   them (kept, or cut part-way: the rest is kept)
 * @throws without an outbox, what {@link EventLog.appendAll} throws
 */
export async function appendAfterWrite(deps: StateWriteDeps, what: string, events: NewLaneEvent[]): Promise<LaneEvent[]> {
  let rest = events;
  let stored: LaneEvent[] = [];
  const write = async (): Promise<void> => {
    try {
      stored = await deps.events.appendAll(rest);
    } catch (err) {
      if (err instanceof EventAppendCut) rest = rest.slice(err.appended);
      throw err;
    }
  };
  if (deps.supervisor) await deps.supervisor.writes.send(what, write);
  else await write();
  return stored;
}
