import { LaneBudgetBodySchema } from "@/lib/scheduling";
import { readBody, route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/**
 * PUT /api/v1/lanes/:id/budget { budget: { maxTokens?, maxCostUsd? } | null } → LaneView.
 * Usage of the lane's children counts against it; a queued lane held by a spent budget is released
 * when the new one is not spent. 422 naming `budget.<field>`; 404 for an unknown lane.
 */
export const PUT = route<{ id: string }>(async ({ req, params, rt }) => rt.lanes.setBudget(params.id, await readBody(req, LaneBudgetBodySchema)), { scope: "admin" });
