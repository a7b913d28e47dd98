/**
 * The append-only lane event log. {@link EventLog.append} validates an event against the zod
 * catalog (lib/lane-events.ts), persists it as a LaneEvent row (the autoincrement id is the
 * cursor), and publishes it on the bus, strictly in id order: appends are serialized, so a
 * subscriber never sees id 8 before id 7.
 */
import { LANE_EVENT_VERSION, LaneEventSchema, parseLaneEventPayload, type LaneEvent, type NewLaneEvent } from "@/lib/lane-events";
import { redactDeep } from "@/lib/redact";
import { currentActor, withActor } from "./event-actor";
import type { EventBus } from "./event-bus";
import { assertCursorKept, followEvents, type EventFollowerOptions } from "./event-follower";
import { filterWhere, type EventFilter } from "./event-filter";
import type { Db } from "../store/db";
import { hotSql } from "../store/sql/hot-sql";

type EventRow = { id: number; laneId: string | null; repoId: string | null; type: string; version: number; payload: string; at: Date; by?: string | null };

/** The wire shape of a row whose payload is already parsed (no validation). */
function wireEvent(row: Omit<EventRow, "payload">, payload: unknown): LaneEvent {
  const event = { id: row.id, v: row.version, laneId: row.laneId, repoId: row.repoId, at: row.at.toISOString(), type: row.type, payload };
  return (row.by ? { ...event, by: row.by } : event) as LaneEvent;
}

/** Convert a stored row to the wire shape; rows that no longer parse are skipped by callers. */
export function eventFromRow(row: EventRow): LaneEvent {
  return LaneEventSchema.parse(wireEvent(row, JSON.parse(row.payload))) as LaneEvent;
}

export class EventLog {
  #tail: Promise<unknown> = Promise.resolve();
  /** laneId → repoId (a lane never changes repo), so every lane event carries its repo without a query per event. */
  readonly #laneRepo = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
  ) {}

  /**
   * Run `fn` as an API call made by `by` (a token's name, `board`, `admin`): the events appended
   * until it settles record `by` (server/events/event-actor.ts).
   */
  actingAs<T>(by: string, fn: () => Promise<T>): Promise<T> {
    return withActor(by, fn);
  }

  /**
   * Persist and publish one event. Throws ZodError if the payload does not match its type
   * (a programming error: payloads come from our own code).
   * @returns the stored event with its cursor id.
   */
  async append(event: NewLaneEvent): Promise<LaneEvent> {
    const [stored] = await this.appendAll([event]);
    return stored!;
  }

  /**
   * Persist `events` (consecutive ids, in order) and only then publish them, so a subscriber
   * woken by the first finds the others already in the log: a lane's `lane.state_changed` to
   * failed and its `lane.failed` with the reason are seen together. Throws as {@link append}.
   * @returns the stored events, in the given order.
   */
  appendAll(events: NewLaneEvent[]): Promise<LaneEvent[]> {
    // Redacted before it is stored: an event is read by every reader of its lane, sent on sockets and to webhooks (lib/redact.ts).
    const payloads = events.map((event) => redactDeep(parseLaneEventPayload(event.type, event.payload)));
    // Taken now: the append may run after the call that caused it has answered.
    const by = currentActor();
    const run = async (): Promise<LaneEvent[]> => {
      const stored: LaneEvent[] = [];
      for (const [i, event] of events.entries()) {
        const repoId = await this.#repoOf(event.laneId, event.repoId);
        const json = JSON.stringify(payloads[i]);
        const at = new Date();
        // One raw statement (server/store/sql): this runs for every event, several per process exit.
        const id = await hotSql(this.db).appendEvent(this.db, { laneId: event.laneId, repoId, type: event.type, version: LANE_EVENT_VERSION, payload: json, at, by });
        // The payload was validated above; the stored event is built, not parsed back.
        stored.push(wireEvent({ id, version: LANE_EVENT_VERSION, laneId: event.laneId, repoId, at, type: event.type, by }, payloads[i]));
      }
      for (const event of stored) this.bus.emit("lane.event", event);
      return stored;
    };
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** The event's repo: given, else its lane's (cached per lane; one lookup the first time). */
  async #repoOf(laneId: string | null, repoId: string | null | undefined): Promise<string | null> {
    if (!laneId) return repoId ?? null;
    if (repoId) {
      this.#laneRepo.set(laneId, repoId);
      return repoId;
    }
    const known = this.#laneRepo.get(laneId);
    if (known) return known;
    const lane = await this.db.lane.findUnique({ where: { id: laneId }, select: { repoId: true } });
    if (lane) this.#laneRepo.set(laneId, lane.repoId);
    return lane?.repoId ?? null;
  }

  /**
   * Events with id > `after`, oldest first, at most `limit` (1..5000, default 500), matching
   * `filter`. One indexed query per page, whatever the page size.
   * @returns the events and the cursor to pass next time (the input cursor when nothing matched).
   */
  async listAfter(after: number, opts: EventFilter & { limit?: number } = {}): Promise<{ events: LaneEvent[]; cursor: number }> {
    const rows = await this.db.laneEvent.findMany({ where: { id: { gt: after }, ...filterWhere(opts) }, orderBy: { id: "asc" }, take: opts.limit ?? 500 });
    const events = rows.map(eventFromRow);
    return { events, cursor: rows.length ? rows[rows.length - 1]!.id : after };
  }

  /**
   * Newest first: events with id < `before` (all when omitted), at most `limit`, matching
   * `filter`. A page of the last 100 events reads 100 rows (descending primary-key scan).
   * @returns the events, newest first, and `before`: the cursor for the next older page, null
   *   when this page reached the oldest matching event.
   */
  async listBefore(before: number | undefined, opts: EventFilter & { limit?: number } = {}): Promise<{ events: LaneEvent[]; before: number | null }> {
    const take = opts.limit ?? 500;
    const rows = await this.db.laneEvent.findMany({
      where: { ...(before !== undefined ? { id: { lt: before } } : {}), ...filterWhere(opts) },
      orderBy: { id: "desc" },
      take,
    });
    return { events: rows.map(eventFromRow), before: rows.length === take ? rows[rows.length - 1]!.id : null };
  }

  /** Follow the log from a cursor: see {@link followEvents}. */
  follow(after: number, filter: EventFilter, signal: AbortSignal, opts?: EventFollowerOptions): AsyncGenerator<LaneEvent[], void, undefined> {
    return followEvents({ log: this, bus: this.bus }, after, filter, signal, opts);
  }

  /** See {@link assertCursorKept}. @throws AppError gone */
  assertCursorKept(after: number): Promise<void> {
    return assertCursorKept(this, after);
  }

  /** Id of the oldest event still kept, null when the log is empty. */
  async oldestId(): Promise<number | null> {
    const row = await this.db.laneEvent.findFirst({ orderBy: { id: "asc" }, select: { id: true } });
    return row?.id ?? null;
  }

  /** Id of the newest event, 0 when there is none. */
  async latestId(): Promise<number> {
    const row = await this.db.laneEvent.findFirst({ orderBy: { id: "desc" }, select: { id: true } });
    return row?.id ?? 0;
  }

  /** Wait until every append issued so far is persisted and published. */
  async flush(): Promise<void> {
    await this.#tail;
  }
}
