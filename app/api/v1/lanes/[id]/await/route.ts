import { AwaitLaneQuerySchema, AwaitLaneResponseSchema } from "@/lib/lane-await";
import { readQuery, route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/lanes/:id/await?state=<targets>&timeout=<s> (or timeoutMs=<ms>) → AwaitLaneResponse:
 * a long poll (≤ 120 s) that answers once the lane is in one of the comma-separated targets
 * (lane states, worker states, `ready_for_prompt`, `ended`, `stalled`; lib/lane-await.ts),
 * with outcome `reached`, `ended` (it ended elsewhere) or `timeout`.
 */
export const GET = route<{ id: string }>(async ({ req, params, rt }) => {
  const { targets, timeoutMs } = readQuery(req, AwaitLaneQuerySchema);
  return AwaitLaneResponseSchema.parse(await rt.awaiter.await(params.id, targets, timeoutMs));
}, { scope: "read" });
