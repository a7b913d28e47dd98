import { route } from "../../_lib/handler";
import { narrowBoard } from "../../_lib/repo-reach";

export const dynamic = "force-dynamic";

/** GET /api/v1/board → BoardResponse: repos, lanes and the event cursor of the snapshot. */
export const GET = route(async ({ rt, caller }) => narrowBoard(await rt.lanes.board(), caller), { scope: "read" });
