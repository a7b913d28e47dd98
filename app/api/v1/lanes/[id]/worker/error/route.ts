import { LastErrorResponseSchema } from "@/lib/worker-api";
import { route } from "../../../../../_lib/handler";
import { LaneParams } from "../../../../../_lib/params";

export const GET = route(async ({ params, rt }) => LastErrorResponseSchema.parse(await rt.workers.lastError(params.id)), {
  scope: "read",
  summary: "A lane's most recent failure, classified (null if none)",
  params: LaneParams,
  response: LastErrorResponseSchema,
});
