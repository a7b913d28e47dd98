/**
 * The raw SQL of Laneboard's hot paths, in one place per dialect. Prisma's model queries are the
 * default everywhere; a statement lives here only when it runs often enough that a model query's
 * cost shows (event appends, process exits and offsets: ~600 µs of CPU for a model query against
 * ~190 µs raw, measured on SQLite over 1000 queries each) or when Prisma cannot express it.
 *
 * {@link hotSql} returns the statements for the dialect a {@link Db} was opened with
 * (server/store/db.ts registers it); `sqlite.ts` and `postgresql.ts` hold the SQL text.
 */
import type { Db } from "../db";
import type { Provider } from "../dialect-schema";
import { postgresSql } from "./postgresql";
import { sqliteSql } from "./sqlite";
import { LANE_SCHED_COLUMNS, type HotSql, type LaneSchedRow } from "./types";

export type { EventInsert, ExitRecord, HotSql, LaneSchedRow, OffsetRow } from "./types";

const dialects = new WeakMap<Db, Provider>();

/** Remember which dialect `db` speaks (called once by openDatabase). */
export function registerDialect(db: Db, provider: Provider): void {
  dialects.set(db, provider);
}

/** The dialect `db` was opened with. @throws Error for a client openDatabase did not open. */
export function providerOf(db: Db): Provider {
  const provider = dialects.get(db);
  if (!provider) throw new Error("this database client was not opened by openDatabase (server/store/db.ts)");
  return provider;
}

/** The hot-path statements for `db`'s dialect. */
export function hotSql(db: Db): HotSql {
  return providerOf(db) === "postgresql" ? postgresSql : sqliteSql;
}

/**
 * Every lane's scheduling columns: one fixed query, the same in both dialects (about twice as fast
 * as findMany at 12 000 rows).
 */
export function laneSchedRows(db: Db): Promise<LaneSchedRow[]> {
  return db.$queryRawUnsafe<LaneSchedRow[]>(`SELECT ${LANE_SCHED_COLUMNS} FROM "Lane"`);
}
