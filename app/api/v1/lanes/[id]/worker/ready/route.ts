import { AwaitReadyQuerySchema, AwaitReadyResponseSchema } from "@/lib/worker-api";
import { route } from "../../../../../_lib/handler";
import { LaneParams } from "../../../../../_lib/params";

export const GET = route(async ({ params, query, rt }) => AwaitReadyResponseSchema.parse(await rt.workers.awaitReady(params.id, query.timeoutMs)), {
  scope: "read",
  summary: "Long poll until the worker's boot is decided (ready, gated, blocked, working, ended) or timeoutMs passes",
  description: "`timedOut: true` when the wait ran out first (at most 120000 ms).",
  params: LaneParams,
  query: AwaitReadyQuerySchema,
  response: AwaitReadyResponseSchema,
});
