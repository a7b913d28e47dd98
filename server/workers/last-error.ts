/**
 * "Fetch last error" (`GET /api/v1/lanes/:id/worker/error`): the lane's newest failure-like
 * event, with the attempt it belongs to, unless a later success cleared it.
 *
 * - Which events are errors: {@link ERROR_EVENTS}; their class and reason come from the same
 *   reading the lane summary uses (`blockerOf`).
 * - The attempt of an event is that of the newest `lane.started` before it (0 when it came before
 *   the first start, e.g. a queued lane blocked by a failed dependency).
 * - Cleared: a `lane.finished` newer than the error means a later attempt succeeded, so there
 *   is no last error (`error: null`). An error of an earlier attempt while a new attempt runs is
 *   still reported, with its `attempt`, so a claw can tell it is not the current one.
 *
 * Three indexed queries (newest error, newest success, the start before the error).
 */
import type { LaneEventType } from "@/lib/lane-events";
import type { LastErrorResponse } from "@/lib/worker-api";
import { eventFromRow } from "../events/event-log";
import { loadLane } from "../records/lane-store";
import type { Db } from "../store/db";
import { blockerOf } from "./summarize-lane";

/** Event types that count as errors for "fetch last error". */
export const ERROR_EVENTS: readonly LaneEventType[] = [
  "lane.failed",
  "lane.red",
  "lane.blocked",
  "lane.escalated",
  "branch.workspace_mismatch",
  "lane.prompt_misdelivery",
  "lane.phantom_completion",
  "trust_required",
];

/** @throws AppError not_found */
export async function lastErrorOf(db: Db, laneId: string): Promise<LastErrorResponse> {
  const lane = await loadLane(db, laneId);
  const none: LastErrorResponse = { laneId, laneAttempt: lane.attempt, error: null };
  const row = await db.laneEvent.findFirst({ where: { laneId, type: { in: [...ERROR_EVENTS] } }, orderBy: { id: "desc" } });
  if (!row) return none;
  const success = await db.laneEvent.findFirst({ where: { laneId, type: "lane.finished", id: { gt: row.id } }, select: { id: true } });
  if (success) return none;
  const event = eventFromRow(row);
  const found = blockerOf(event);
  if (!found) return none;
  const start = await db.laneEvent.findFirst({ where: { laneId, type: "lane.started", id: { lt: row.id } }, orderBy: { id: "desc" }, select: { payload: true } });
  const attempt = start ? ((JSON.parse(start.payload) as { attempt?: number }).attempt ?? 0) : 0;
  return {
    laneId,
    laneAttempt: lane.attempt,
    error: { failureClass: found.failureClass, failureReason: found.failureReason, message: found.reason, attempt, eventType: event.type, eventId: event.id, at: event.at },
  };
}
