import { route } from "../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/board → BoardResponse: repos, lanes and the event cursor of the snapshot. */
export const GET = route(async ({ rt }) => rt.lanes.board(), { scope: "read" });
