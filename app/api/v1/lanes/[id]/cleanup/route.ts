import { CleanupBodySchema, CleanupResultSchema } from "@/lib/review-api";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const POST = route(async ({ params, body, rt, caller }) => rt.merge.cleanup(params.id, body.deleteBranch, caller.by), {
  scope: "control",
  summary: "Remove a merged lane's worktree (and optionally its branch)",
  description: "409 `not_ready` when the lane is not merged.",
  params: LaneParams,
  body: CleanupBodySchema,
  response: CleanupResultSchema,
  errors: ["not_ready"],
});
