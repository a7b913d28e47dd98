/**
 * Hot-path SQL for SQLite (one writer: ids are assigned and committed in order by construction).
 * Shapes and contracts: types.ts.
 */
import { EVENT_COLUMNS, eventParams, insertedIds, type HotSql } from "./types";

export const sqliteSql: HotSql = {
  provider: "sqlite",

  async appendEvents(db, events) {
    // One statement: the trigger of migration 20261121051000 points Lane.lastEventId at each row.
    const rows = await db.$queryRawUnsafe<{ id: number | bigint }[]>(
      `INSERT INTO "LaneEvent" (${EVENT_COLUMNS}) VALUES ${events.map(() => "(?, ?, ?, ?, ?, ?, ?)").join(", ")} RETURNING "id"`,
      ...eventParams(events),
    );
    return insertedIds(rows, events);
  },

  async recordExit(db, processId, x) {
    const count = await db.$executeRaw`
      UPDATE "Process" SET "status" = ${x.status}, "exitCode" = ${x.exitCode}, "signal" = ${x.signal}, "endedAt" = ${x.endedAt},
        "stdoutOffset" = ${x.stdoutOffset}, "stderrOffset" = ${x.stderrOffset}, "truncatedBytes" = ${x.truncatedBytes}
      WHERE "id" = ${processId} AND "status" IN ('starting', 'running')`;
    return count > 0;
  },

  async syncOffsets(db, rows) {
    await db.$executeRaw`
      UPDATE "Process" SET "stdoutOffset" = u.so, "stderrOffset" = u.se, "truncatedBytes" = u.tb
      FROM (SELECT value ->> 0 AS id, value ->> 1 AS so, value ->> 2 AS se, value ->> 3 AS tb FROM json_each(${JSON.stringify(rows)})) AS u
      WHERE "Process"."id" = u.id`;
  },
};
