import { LaneLogsQuerySchema } from "@/lib/api";
import { readQuery, route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes/:id/logs?limit=&processId= → LaneLogsResponse (current attempt; readable after exit). */
export const GET = route<{ id: string }>(async ({ req, params, rt }) => rt.lanes.logs(params.id, readQuery(req, LaneLogsQuerySchema)), { scope: "read" });
