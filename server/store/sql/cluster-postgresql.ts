/**
 * The cluster's own PostgreSQL statements (nodes share a database only on PostgreSQL), run on a
 * pg client inside the dispatcher's transaction (server/cluster/dispatcher.ts), next to pg-boss's
 * job insert, so a lane is claimed for a node exactly when its start job exists.
 */
import type pg from "pg";

/** What a claim writes besides the state: the same fields LaneRunner writes on `queued → starting`. */
export interface ClaimFields {
  nodeId: string;
  attempt: number;
  startedAt: Date;
}

/**
 * Guarded `queued → starting` for `nodeId`: only if the lane is still queued at the version the
 * leader read (a lane killed or rescheduled meanwhile is not claimed).
 * @returns true when this call claimed it
 */
export async function claimLane(client: pg.ClientBase, laneId: string, stateVersion: number, f: ClaimFields): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE "Lane" SET "state" = 'starting', "stateVersion" = "stateVersion" + 1, "nodeId" = $3, "attempt" = $4,
       "startedAt" = ($5::timestamptz AT TIME ZONE 'UTC'), "endedAt" = NULL, "lastExitCode" = NULL, "checks" = '[]', "updatedAt" = ($5::timestamptz AT TIME ZONE 'UTC')
     WHERE "id" = $1 AND "state" = 'queued' AND "stateVersion" = $2`,
    // Timestamps are stored as UTC without a zone, as Prisma stores them.
    [laneId, stateVersion, f.nodeId, f.attempt, f.startedAt.toISOString()],
  );
  return rowCount === 1;
}
