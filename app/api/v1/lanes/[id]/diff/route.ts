import { LaneDiffSchema } from "@/lib/review-api";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const GET = route(async ({ params, rt }) => rt.diff.files(params.id), {
  scope: "read",
  summary: "Files the lane's branch changed against the merge base with its base",
  description: "409 `conflict` when the branch is gone.",
  params: LaneParams,
  response: LaneDiffSchema,
  errors: ["conflict"],
});
