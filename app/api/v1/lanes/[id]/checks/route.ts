import { LaneChecksResponseSchema } from "@/lib/api";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const GET = route(async ({ params, rt }) => rt.merge.checkReport(params.id), {
  scope: "read",
  summary: "A lane's check runs with their counts and failure class, and red/green per level",
  params: LaneParams,
  response: LaneChecksResponseSchema,
});
