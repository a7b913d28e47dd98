import { KillBodySchema } from "@/lib/api";
import { CreateWorkerBodySchema, WorkerStateResponseSchema } from "@/lib/worker-api";
import { readBody, route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/lanes/:id/worker { by? } → 202 WorkerStateResponse: start a worker for the lane
 * (an ended lane is re-queued; a queued one is offered to the scheduler). 409 conflict if live.
 */
export const POST = route<{ id: string }>(
  async ({ req, params, rt, caller }) => {
    const body = await readBody(req, CreateWorkerBodySchema);
    return WorkerStateResponseSchema.parse(await rt.workers.create(params.id, { by: body.by ?? caller.by }));
  },
  { scope: "control", status: 202, idempotent: true },
);

/** GET /api/v1/lanes/:id/worker → WorkerStateResponse (lane state, current worker, summary). */
export const GET = route<{ id: string }>(async ({ params, rt }) => WorkerStateResponseSchema.parse(await rt.workers.state(params.id)), { scope: "read" });

/** DELETE /api/v1/lanes/:id/worker { graceMs? } → WorkerStateResponse once the process group is gone; 409 not_running if it has ended. */
export const DELETE = route<{ id: string }>(async ({ req, params, rt, caller }) => {
  const body = await readBody(req, KillBodySchema);
  return WorkerStateResponseSchema.parse(await rt.workers.terminate(params.id, { graceMs: body.graceMs, by: caller.by }));
}, { scope: "control" });
