import { LaneViewSchema } from "@/lib/api";
import { LaneBudgetBodySchema } from "@/lib/scheduling";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const PUT = route(async ({ params, body, rt }) => rt.lanes.setBudget(params.id, body), {
  scope: "admin",
  summary: "Set or clear a lane's token and cost budget",
  description:
    "Usage of the lane's children counts against it; a queued lane held by a spent budget is released when the new one is not spent. 422 naming `budget.<field>`.",
  params: LaneParams,
  body: LaneBudgetBodySchema,
  response: LaneViewSchema,
});
