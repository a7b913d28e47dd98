import { LaneAttemptsSchema } from "@/lib/review-api";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const GET = route(async ({ params, rt }) => rt.attempts.list(params.id), {
  scope: "read",
  summary: "Every attempt of a lane: its processes, checks, usage and event range, plus lane and repo usage",
  params: LaneParams,
  response: LaneAttemptsSchema,
});
