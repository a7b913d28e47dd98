import { LaneViewSchema } from "@/lib/api";
import { ScheduleUpdateSchema } from "@/lib/scheduling";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const PATCH = route(async ({ params, body, rt }) => rt.lanes.reschedule(params.id, body), {
  scope: "control",
  summary: "Change a queued lane's priority, deadline, dependencies or artifact",
  description:
    "422 naming the field (priority out of -1000..1000, deadline in the past, `dependsOn.<i>` unknown, of another repo or itself, or a cycle, which is named); 409 `conflict` if the lane is not queued.",
  params: LaneParams,
  body: ScheduleUpdateSchema,
  response: LaneViewSchema,
  errors: ["conflict"],
});
