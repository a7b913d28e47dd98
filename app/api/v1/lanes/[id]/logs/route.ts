import { LaneLogsQuerySchema, LaneLogsResponseSchema } from "@/lib/api";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const GET = route(async ({ params, query, rt }) => rt.lanes.logs(params.id, query), {
  scope: "read",
  summary: "The last lines of a lane's current attempt (readable after it exits)",
  params: LaneParams,
  query: LaneLogsQuerySchema,
  response: LaneLogsResponseSchema,
});
