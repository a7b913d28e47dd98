import { AwaitReadyQuerySchema, AwaitReadyResponseSchema } from "@/lib/worker-api";
import { readQuery, route } from "../../../../../_lib/handler";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/lanes/:id/worker/ready?timeoutMs= → AwaitReadyResponse: a long poll that answers
 * once the worker's boot is decided (ready, gated, blocked, working, ended) or after timeoutMs
 * (≤ 120000; `timedOut: true`).
 */
export const GET = route<{ id: string }>(async ({ req, params, rt }) => {
  const { timeoutMs } = readQuery(req, AwaitReadyQuerySchema);
  return AwaitReadyResponseSchema.parse(await rt.workers.awaitReady(params.id, timeoutMs));
}, { scope: "read" });
