/**
 * Guarded lane state writes. Every lane state change goes through {@link transitionLane}: it
 * checks the transition table (lib/lane-state.ts), updates the row only if it still has the
 * state and `stateVersion` the caller read (so a stale writer loses instead of overwriting),
 * and appends a `lane.state_changed` event.
 */
import { canTransitionLane, type LaneState } from "@/lib/lane-state";
import { AppError } from "@/lib/errors";
import type { EventLog } from "../events/event-log";
import type { Db } from "../store/db";
import type { Lane } from "../store/generated/client";

export type LaneRow = Lane;

export interface LaneDeps {
  db: Db;
  events: EventLog;
}

/** Load a lane or throw AppError("not_found"). */
export async function loadLane(db: Db, laneId: string): Promise<LaneRow> {
  const lane = await db.lane.findUnique({ where: { id: laneId } });
  if (!lane) throw new AppError("not_found", `no lane with id ${laneId}`);
  return lane;
}

/**
 * Move `lane` (as the caller read it) to `to`, writing `data` in the same guarded update.
 * @returns the updated row, or null if the lane changed meanwhile (the caller lost the race).
 * @throws Error for a transition the table forbids (a programming error).
 */
export async function transitionLane(
  deps: LaneDeps,
  lane: Pick<LaneRow, "id" | "repoId" | "state" | "stateVersion">,
  to: LaneState,
  data: Partial<Omit<LaneRow, "id" | "state" | "stateVersion">> = {},
): Promise<LaneRow | null> {
  const from = lane.state as LaneState;
  if (!canTransitionLane(from, to)) throw new Error(`lane ${lane.id}: illegal transition ${from} → ${to}`);
  const { count } = await deps.db.lane.updateMany({
    where: { id: lane.id, state: from, stateVersion: lane.stateVersion },
    data: { ...data, state: to, stateVersion: { increment: 1 } },
  });
  if (count === 0) return null;
  await deps.events.append({ type: "lane.state_changed", laneId: lane.id, repoId: lane.repoId, payload: { from, to } });
  return deps.db.lane.findUniqueOrThrow({ where: { id: lane.id } });
}
