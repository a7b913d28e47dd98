import { LaneViewSchema } from "@/lib/api";
import { route } from "../../../_lib/handler";
import { LaneParams } from "../../../_lib/params";

export const GET = route(async ({ params, rt }) => rt.lanes.get(params.id), {
  scope: "read",
  summary: "One lane: state, checks, summary, worker, schedule",
  params: LaneParams,
  response: LaneViewSchema,
});
