import { LaneViewSchema } from "@/lib/api";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const POST = route(async ({ params, rt, caller }) => rt.lanes.restart(params.id, { by: caller.by }), {
  scope: "control",
  summary: "Re-queue an ended lane in the same worktree",
  description: "409 `conflict` while the lane is still live.",
  idempotent: true,
  params: LaneParams,
  response: LaneViewSchema,
  errors: ["conflict"],
});
