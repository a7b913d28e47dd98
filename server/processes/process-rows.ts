/**
 * The supervisor's hot-path writes to `Process` rows: they run for every exit and every few
 * seconds per running process, so they are raw statements (server/store/sql, one per dialect).
 */
import type { Db } from "../store/db";
import { hotSql, type OffsetRow } from "../store/sql/hot-sql";
import type { ProcessExit } from "../events/event-bus";
import type { ProcState } from "./log-files";

export type { OffsetRow } from "../store/sql/hot-sql";

/**
 * Record a process's end on its row, only if the row is still live (`starting`/`running`): of two
 * racing ends (exit watch, kill) exactly one wins.
 * @returns true when this call changed the row
 * @throws what the database throws (the caller decides how to report it)
 */
export function recordExitRow(db: Db, processId: string, exit: Pick<ProcessExit, "status" | "exitCode" | "signal">, endedAt: Date, state: ProcState): Promise<boolean> {
  return hotSql(db).recordExit(db, processId, {
    status: exit.status,
    exitCode: exit.exitCode,
    signal: exit.signal,
    endedAt,
    stdoutOffset: state.stdout.offset,
    stderrOffset: state.stderr.offset,
    truncatedBytes: state.stdout.dropped + state.stderr.dropped,
  });
}

/**
 * Copy published offsets to their rows in one statement: with 100 chatty lanes, 100 separate
 * updates every few seconds were a visible stall on the log path.
 * @throws what the database throws
 */
export async function syncOffsetRows(db: Db, rows: OffsetRow[]): Promise<void> {
  if (rows.length > 0) await hotSql(db).syncOffsets(db, rows);
}
