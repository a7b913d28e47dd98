import { route } from "../../_lib/handler";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/board → BoardResponse: repos, lanes and the event cursor of the snapshot, narrowed
 * to the caller's repos when its token is limited to some. The body is the read model's JSON text
 * (server/lanes/lane-views.ts), sent as is.
 */
export const GET = route(async ({ rt, caller }) => new Response(await rt.lanes.boardJson({ repoIds: caller.repos }), { headers: { "content-type": "application/json" } }), { scope: "read" });
