import { AwaitLaneQuerySchema, AwaitLaneResponseSchema } from "@/lib/lane-await";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const GET = route(async ({ params, query, rt }) => AwaitLaneResponseSchema.parse(await rt.awaiter.await(params.id, query.targets, query.timeoutMs)), {
  scope: "read",
  summary: "Long poll until the lane is in one of the given states, or the timeout passes",
  description:
    "`state` is comma-separated targets (lane states, worker states, `ready_for_prompt`, `ended`, `stalled`); at most 120 s per call. " +
    "Outcome `reached`, `ended` (it ended elsewhere) or `timeout`.",
  params: LaneParams,
  query: AwaitLaneQuerySchema,
  response: AwaitLaneResponseSchema,
});
