import { LaneSummarySchema } from "@/lib/lane-summary";
import { route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes/:id/summary → LaneSummary: phase, last checkpoint, blocker, next action. 404 for an unknown lane. */
export const GET = route<{ id: string }>(async ({ params, rt }) => LaneSummarySchema.parse(await rt.summaries.get(params.id)), { scope: "read" });
