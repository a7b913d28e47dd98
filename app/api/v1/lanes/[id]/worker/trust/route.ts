import { ResolveTrustBodySchema, WorkerStateResponseSchema } from "@/lib/worker-api";
import { readBody, route } from "../../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** POST /api/v1/lanes/:id/worker/trust { by? } → WorkerStateResponse: answer a gated folder-trust prompt. 409 if none is pending. */
export const POST = route<{ id: string }>(async ({ req, params, rt, caller }) => {
  const body = await readBody(req, ResolveTrustBodySchema);
  return WorkerStateResponseSchema.parse(await rt.workers.resolveTrust(params.id, body.by ?? caller.by));
}, { scope: "control" });
