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
   * Insert one event and return its id (the cursor). Ids are assigned in commit order: a reader
   * that has seen id n has seen every committed id below n (PostgreSQL takes a lock for this;
   * SQLite has one writer). The Lane.lastEventId trigger runs in the same statement.
   */
  appendEvent(db: Db, e: EventInsert): Promise<number>;
  /** Record a process's end only if its row is still `starting`/`running`; true when this call changed it. */
  recordExit(db: Db, processId: string, exit: ExitRecord): Promise<boolean>;
  /** Copy published offsets to their rows in one statement; `rows` is never empty (the caller skips the call). */
  syncOffsets(db: Db, rows: OffsetRow[]): Promise<void>;
}

/**
 * The id an INSERT … RETURNING "id" gave back (a cursor).
 * @throws Error when the statement returned no row
 */
export function insertedId(rows: { id: number | bigint }[], what: string): number {
  const [row] = rows;
  if (!row) throw new Error(`appending ${what}: the INSERT returned no row`);
  return Number(row.id);
}

/** The Lane scheduling columns, quoted (both dialects accept double-quoted identifiers). */
export const LANE_SCHED_COLUMNS = [
  "id", "repoId", "state", "engine", "pool", "priority", "deadline", "queuedAt", "queueSeq", "dependsOn", "dependsMode",
  "artifact", "budget", "parentId", "usedTokens", "usedCostUsd", "produced",
].map((c) => `"${c}"`).join(", ");
