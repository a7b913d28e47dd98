import { ScheduleUpdateSchema } from "@/lib/scheduling";
import { readBody, route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/**
 * PATCH /api/v1/lanes/:id/schedule { priority?, deadline?, dependsOn?, mode?, artifact? } → LaneView (queued lanes only).
 * 422 naming the field (priority out of -1000..1000, deadline in the past, dependsOn.<i> unknown /
 * of another repo / itself, dependsOn for a cycle — the cycle is named); 409 if the lane is not queued.
 */
export const PATCH = route<{ id: string }>(async ({ req, params, rt }) => rt.lanes.reschedule(params.id, await readBody(req, ScheduleUpdateSchema)), { scope: "control" });
