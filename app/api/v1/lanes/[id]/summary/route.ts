import { LaneSummarySchema } from "@/lib/lane-summary";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const GET = route(async ({ params, rt }) => LaneSummarySchema.parse(await rt.summaries.get(params.id)), {
  scope: "read",
  summary: "A lane's summary: phase, last checkpoint, blocker, next action",
  params: LaneParams,
  response: LaneSummarySchema,
});
