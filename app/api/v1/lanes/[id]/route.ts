import { route } from "../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes/:id → LaneView */
export const GET = route<{ id: string }>(async ({ params, rt }) => rt.lanes.get(params.id), { scope: "read" });
