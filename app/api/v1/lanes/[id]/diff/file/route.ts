import { LaneDiffFileQuerySchema, LaneDiffFileSchema } from "@/lib/review-api";
import { route } from "../../../../../_lib/handler";
import { LaneParams } from "../../../../../_lib/params";

export const GET = route(async ({ params, query, rt }) => rt.diff.file(params.id, query.path, { base: query.base, head: query.head }), {
  scope: "read",
  summary: "One changed file's unified diff",
  description: "422 for a path the lane's diff does not list.",
  params: LaneParams,
  query: LaneDiffFileQuerySchema,
  response: LaneDiffFileSchema,
  errors: ["conflict"],
});
