/**
 * Hot-path SQL for PostgreSQL. Shapes and contracts: types.ts.
 *
 * Event ids in commit order: a sequence hands out ids when rows are inserted, not when they
 * commit, so with several writers a reader could see id 12 committed while 11 is still in flight
 * and move its cursor past 11 for good. Each append therefore takes one transaction-scoped
 * advisory lock before its id is drawn ({@link EVENT_APPEND_LOCK}); the lock is released after
 * the commit is visible, so ids become visible in order across every node. It serializes
 * appends cluster-wide (one short statement each); `npm run bench:cluster` measures the rate.
 * The same statement NOTIFYs `laneboard_event` with the id, so other nodes read new events at
 * once instead of polling.
 */
import { EVENT_COLUMNS, eventParams, insertedIds, type HotSql } from "./types";

/** Advisory lock key pair (classid, objid) serializing event appends: "LBEV", 1. */
export const EVENT_APPEND_LOCK = [0x4c424556, 1] as const;
/** LISTEN/NOTIFY channel announcing appended event ids. */
export const EVENT_CHANNEL = "laneboard_event";

export const postgresSql: HotSql = {
  provider: "postgresql",

  async appendEvents(db, events) {
    // MATERIALIZED: the lock is taken once, before the INSERT draws its ids from the sequence;
    // ORDER BY the row's index: the ids are drawn in the order the events were given.
    const row = (i: number) => {
      const p = 4 + i * 7; // $1-$3: the lock's key pair and the channel
      return `(${i}, $${p}::text, $${p + 1}::text, $${p + 2}::text, $${p + 3}::int, $${p + 4}::text, $${p + 5}::timestamp(3), $${p + 6}::text)`;
    };
    const rows = await db.$queryRawUnsafe<{ id: number }[]>(
      `WITH "lock" AS MATERIALIZED (SELECT pg_advisory_xact_lock($1::int, $2::int)),
      "ins" AS (
        INSERT INTO "LaneEvent" (${EVENT_COLUMNS})
        SELECT v."laneId", v."repoId", v."type", v."version", v."payload", v."at", v."by"
        FROM (VALUES ${events.map((_, i) => row(i)).join(", ")}) AS v("n", ${EVENT_COLUMNS}), "lock"
        ORDER BY v."n"
        RETURNING "id"
      )
      SELECT "id", pg_notify($3, "id"::text)::text AS "notified" FROM "ins"`,
      EVENT_APPEND_LOCK[0],
      EVENT_APPEND_LOCK[1],
      EVENT_CHANNEL,
      ...eventParams(events),
    );
    return insertedIds(rows, events);
  },

  async recordExit(db, processId, x) {
    const count = await db.$executeRaw`
      UPDATE "Process" SET "status" = ${x.status}, "exitCode" = ${x.exitCode}::int, "signal" = ${x.signal}, "endedAt" = ${x.endedAt}::timestamp(3),
        "stdoutOffset" = ${x.stdoutOffset}::int, "stderrOffset" = ${x.stderrOffset}::int, "truncatedBytes" = ${x.truncatedBytes}::int
      WHERE "id" = ${processId} AND "status" IN ('starting', 'running')`;
    return count > 0;
  },

  async syncOffsets(db, rows) {
    await db.$executeRaw`
      UPDATE "Process" SET "stdoutOffset" = u.so, "stderrOffset" = u.se, "truncatedBytes" = u.tb
      FROM (SELECT value ->> 0 AS id, (value ->> 1)::int AS so, (value ->> 2)::int AS se, (value ->> 3)::int AS tb
            FROM json_array_elements(${JSON.stringify(rows)}::json)) AS u
      WHERE "Process"."id" = u.id`;
  },
};
