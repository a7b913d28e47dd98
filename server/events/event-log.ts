/**
 * The append-only lane event log. {@link EventLog.append} validates an event against the zod
 * catalog (lib/lane-events.ts), persists it as a LaneEvent row (the autoincrement id is the
 * cursor), and publishes it on the bus, strictly in id order: appends are serialized, so a
 * subscriber never sees id 8 before id 7.
 *
 * Several nodes on one PostgreSQL database ({@link EventLog.followCluster}): the bus also carries
 * the events other nodes append, still strictly in id order, so every node's subscribers (the
 * board, the SSE stream, the scheduler) see the same sequence. Ids become visible in commit order
 * (server/store/sql/postgresql.ts), so reading `id > last published` never skips one:
 * {@link EventLog.pullRemote} publishes what others appended (called when the database announces
 * an append, and now and then), and an append whose id jumps past ids this node has not
 * published yet publishes those first. Events from other nodes are marked: reactors that must act
 * once per event (recovery) skip them with {@link isRemoteEvent}; views and streams take all.
 */
import { LANE_EVENT_VERSION, LaneEventSchema, parseLaneEventPayload, type LaneEvent, type NewLaneEvent } from "@/lib/lane-events";
import { redactDeep } from "@/lib/redact";
import { currentActor, withActor } from "./event-actor";
import type { EventBus } from "./event-bus";
import { assertCursorKept, followEvents, type EventFollowerOptions } from "./event-follower";
import { filterWhere, type EventFilter } from "./event-filter";
import type { Db } from "../store/db";
import { hotSql, type EventInsert } from "../store/sql/hot-sql";
import { MAX_EVENTS_PER_INSERT } from "../store/sql/types";

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

/** Events other nodes appended, as published on this node's bus. */
const remoteEvents = new WeakSet<LaneEvent>();

/** True for an event that another node appended (published here by {@link EventLog.pullRemote}). */
export function isRemoteEvent(event: LaneEvent): boolean {
  return remoteEvents.has(event);
}

/**
 * {@link EventLog.appendAll} stored (and published) the first `appended` of its events, then the
 * database refused the next one with `cause`. Appending the rest again neither loses nor doubles
 * one. lib/storage-errors.ts reads the cause, so a full disk stays recognisable through it.
 */
export class EventAppendCut extends Error {
  constructor(
    readonly appended: number,
    total: number,
    cause: unknown,
  ) {
    super(`the database took ${appended} of ${total} events, then refused: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "EventAppendCut";
  }
}

/** Events read per query when catching up with other nodes' appends. */
const PULL_PAGE = 1000;

export class EventLog {
  #tail: Promise<unknown> = Promise.resolve();
  /** Cluster mode: the id up to which events are published on this node's bus (null: one node, no following). */
  #published: number | null = null;
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
   * Persist `events` with one INSERT (per {@link MAX_EVENTS_PER_INSERT}; ids in order, consecutive
   * on one node; one `at` for all) and only then publish them, so a subscriber
   * woken by the first finds the others already in the log: a lane's `lane.state_changed` to
   * failed and its `lane.failed` with the reason are seen together. Throws as {@link append}.
   * @throws what the database throws when it stored none of them; {@link EventAppendCut} (its
   *   `cause` being what the database threw) when it stored some: those are published.
   * @returns the stored events, in the given order.
   */
  appendAll(events: NewLaneEvent[]): Promise<LaneEvent[]> {
    // Redacted before it is stored: an event is read by every reader of its lane, sent on sockets and to webhooks (lib/redact.ts).
    const payloads = events.map((event) => redactDeep(parseLaneEventPayload(event.type, event.payload)));
    // Taken now: the append may run after the call that caused it has answered.
    const by = currentActor();
    const run = async (): Promise<LaneEvent[]> => {
      const rows: EventInsert[] = [];
      // One time for the events of one append: they are written together.
      const at = new Date();
      for (const [i, event] of events.entries()) {
        const repoId = await this.#repoOf(event.laneId, event.repoId);
        rows.push({ laneId: event.laneId, repoId, type: event.type, version: LANE_EVENT_VERSION, payload: JSON.stringify(payloads[i]), at, by });
      }
      const stored: LaneEvent[] = [];
      try {
        // One raw statement per batch (server/store/sql): a transition's events are one INSERT, not one each.
        for (let from = 0; from < rows.length; from += MAX_EVENTS_PER_INSERT) {
          const batch = rows.slice(from, from + MAX_EVENTS_PER_INSERT);
          const ids = await hotSql(this.db).appendEvents(this.db, batch);
          // The payload was validated above; the stored event is built, not parsed back.
          for (const [j, row] of batch.entries()) stored.push(wireEvent({ ...row, id: ids[j]! }, payloads[from + j]));
        }
      } catch (err) {
        if (stored.length === 0) throw err;
        // Those stored are in the log for good: published like any other, and the caller told how far it got.
        await this.#publish(stored);
        throw new EventAppendCut(stored.length, events.length, err);
      }
      await this.#publish(stored);
      return stored;
    };
    return this.#serial(run);
  }

  /** Publish this node's just-stored events on the bus, in id order. */
  async #publish(stored: LaneEvent[]): Promise<void> {
    for (const event of stored) {
      // Other nodes' events below this id come first (they are committed: ids are visible in order).
      if (this.#published !== null && event.id > this.#published + 1) await this.#publishRemote(event.id);
      if (this.#published !== null) this.#published = Math.max(this.#published, event.id);
      this.bus.emit("lane.event", event);
    }
  }

  /**
   * Cluster mode: from now on publish other nodes' events too, starting after `after` (the
   * newest id when this node started following).
   */
  followCluster(after: number): void {
    this.#published = after;
  }

  /**
   * Publish the events other nodes appended since the last one published, in id order (on the
   * append chain, so they interleave correctly with this node's own). No-op unless following.
   * @returns how many were published
   * @throws what the database throws (the caller retries later; nothing is skipped)
   */
  pullRemote(): Promise<number> {
    return this.#serial(() => (this.#published === null ? Promise.resolve(0) : this.#publishRemote(null)));
  }

  /** Publish rows with #published < id < `below`, page by page. */
  async #publishRemote(below: number | null): Promise<number> {
    let n = 0;
    for (;;) {
      const from = this.#published!;
      const rows = await this.db.laneEvent.findMany({ where: { id: below === null ? { gt: from } : { gt: from, lt: below } }, orderBy: { id: "asc" }, take: PULL_PAGE });
      for (const row of rows) {
        this.#published = row.id;
        let event: LaneEvent;
        try {
          event = eventFromRow(row);
        } catch (err) {
          console.warn(`[events] skipping event ${row.id} (${row.type}) from another node: ${(err as Error).message}`);
          continue;
        }
        remoteEvents.add(event);
        n++;
        this.bus.emit("lane.event", event);
      }
      if (rows.length < PULL_PAGE) return n;
    }
  }

  /** Run `fn` after every append and pull issued before it. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
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
