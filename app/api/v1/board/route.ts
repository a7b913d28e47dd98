import { BoardResponseSchema } from "@/lib/api";
import { cachedJsonResponse } from "../../_lib/cached-body";
import { route } from "../../_lib/handler";

export const GET = route(
  // The read model's JSON bytes (server/lanes/lane-views.ts), narrowed to a repo-limited caller's
  // repos, sent as is: the same bytes while nothing changed, so their ETag and gzip are made once.
  async ({ req, rt, caller }) => cachedJsonResponse(req, await rt.lanes.boardBody({ repoIds: caller.repos })),
  {
    scope: "read",
    summary: "The board: every repo and lane, with the event cursor of the snapshot",
    description: "Narrowed to the caller's repos when its token is limited to some. Follow changes from `cursor` with `GET /api/v1/events?after=` or the event stream.",
    response: BoardResponseSchema,
  },
);
