import { BoardResponseSchema } from "@/lib/api";
import { route } from "../../_lib/handler";

export const dynamic = "force-dynamic";

export const GET = route(
  // The read model's JSON text (server/lanes/lane-views.ts), narrowed to a repo-limited caller's repos, sent as is.
  async ({ rt, caller }) => new Response(await rt.lanes.boardJson({ repoIds: caller.repos }), { headers: { "content-type": "application/json" } }),
  {
    scope: "read",
    summary: "The board: every repo and lane, with the event cursor of the snapshot",
    description: "Narrowed to the caller's repos when its token is limited to some. Follow changes from `cursor` with `GET /api/v1/events?after=` or the event stream.",
    response: BoardResponseSchema,
  },
);
