import { ResolveTrustBodySchema, WorkerStateResponseSchema } from "@/lib/worker-api";
import { route } from "../../../../../_lib/handler";
import { LaneParams } from "../../../../../_lib/params";

export const POST = route(async ({ params, body, rt, caller }) => WorkerStateResponseSchema.parse(await rt.workers.resolveTrust(params.id, body.by ?? caller.by)), {
  scope: "control",
  summary: "Answer a worker's pending folder-trust prompt",
  description: "409 `conflict` if none is pending.",
  params: LaneParams,
  body: ResolveTrustBodySchema,
  response: WorkerStateResponseSchema,
  errors: ["conflict"],
});
