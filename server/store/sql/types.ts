/**
 * Shapes of the hot-path statements (hot-sql.ts) shared by both dialects' implementations.
 */
import type { Db } from "../db";
import type { Provider } from "../dialect-schema";

/** A new LaneEvent row (`payload` is JSON text; `version` the catalog version). */
export interface EventInsert {
  laneId: string | null;
  repoId: string | null;
  type: string;
  version: number;
  payload: string;
  at: Date;
  /** Who caused it through the API (server/events/event-actor.ts); null for the server's own decisions. */
  by: string | null;
}

/** How a process ended, as written to its row. */
export interface ExitRecord {
  status: string;
  exitCode: number | null;
  signal: string | null;
  endedAt: Date;
  stdoutOffset: number;
  stderrOffset: number;
  truncatedBytes: number;
}

/** One row's published offsets: `[id, stdoutOffset, stderrOffset, truncatedBytes]`. */
export type OffsetRow = [string, number, number, number];

/** The Lane columns the scheduler rebuilds its queue from (server/scheduler/scheduler-store.ts). */
export interface LaneSchedRow {
  id: string;
  repoId: string;
  state: string;
  engine: string;
  pool: string;
  priority: number;
  deadline: Date | null;
  queuedAt: Date;
  queueSeq: number | null;
  dependsOn: string;
  dependsMode: string;
  artifact: string | null;
  budget: string | null;
  parentId: string | null;
  usedTokens: number;
  usedCostUsd: number;
  produced: string | null;
}

export interface HotSql {
  provider: Provider;
  /**
   * Insert events (at least one, at most {@link MAX_EVENTS_PER_INSERT}) in one statement and
   * return their ids (the cursors), in the order given: ascending, consecutive on one node.
   * Ids are assigned in commit order: a reader that has seen id n has seen every committed id
   * below n (PostgreSQL takes a lock for this; SQLite has one writer). The Lane.lastEventId
   * trigger runs for each row in the same statement. All or none are stored.
   */
  appendEvents(db: Db, events: readonly EventInsert[]): Promise<number[]>;
  /** Record a process's end only if its row is still `starting`/`running`; true when this call changed it. */
  recordExit(db: Db, processId: string, exit: ExitRecord): Promise<boolean>;
  /** Copy published offsets to their rows in one statement; `rows` is never empty (the caller skips the call). */
  syncOffsets(db: Db, rows: OffsetRow[]): Promise<void>;
}

/**
 * Events per INSERT: 7 bound parameters each, far below SQLite's (32766) and PostgreSQL's
 * (65535) limits; a transition appends a handful.
 */
export const MAX_EVENTS_PER_INSERT = 100;

/** The columns of a LaneEvent INSERT, in the order of {@link eventParams}. */
export const EVENT_COLUMNS = `"laneId", "repoId", "type", "version", "payload", "at", "by"`;

/** The bound parameters of `events`, row after row, in {@link EVENT_COLUMNS} order. */
export function eventParams(events: readonly EventInsert[]): unknown[] {
  return events.flatMap((e) => [e.laneId, e.repoId, e.type, e.version, e.payload, e.at, e.by]);
}

/**
 * The ids an INSERT … RETURNING "id" of `events` gave back (cursors), in the events' order.
 * RETURNING promises no row order, but the rows were inserted in the order given and each drew
 * a larger id than the one before (SQLite's rowid, PostgreSQL's sequence in the INSERT's ORDER
 * BY), so the sorted ids are theirs in that order.
 * @throws Error when the statement returned another number of rows
 */
export function insertedIds(rows: { id: number | bigint }[], events: readonly EventInsert[]): number[] {
  if (rows.length !== events.length) throw new Error(`appending ${events.map((e) => e.type).join(", ")}: the INSERT returned ${rows.length} rows for ${events.length} events`);
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

/** The Lane scheduling columns, quoted (both dialects accept double-quoted identifiers). */
export const LANE_SCHED_COLUMNS = [
  "id", "repoId", "state", "engine", "pool", "priority", "deadline", "queuedAt", "queueSeq", "dependsOn", "dependsMode",
  "artifact", "budget", "parentId", "usedTokens", "usedCostUsd", "produced",
].map((c) => `"${c}"`).join(", ");
