import { KillBodySchema } from "@/lib/api";
import { CreateWorkerBodySchema, WorkerStateResponseSchema } from "@/lib/worker-api";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const POST = route(async ({ params, body, rt, caller }) => WorkerStateResponseSchema.parse(await rt.workers.create(params.id, { by: body.by ?? caller.by })), {
  scope: "control",
  summary: "Start a worker for the lane",
  description: "An ended lane is re-queued; a queued one is offered to the scheduler. 409 `conflict` if it is live.",
  status: 202,
  idempotent: true,
  params: LaneParams,
  body: CreateWorkerBodySchema,
  response: WorkerStateResponseSchema,
  errors: ["conflict"],
});

export const GET = route(async ({ params, rt }) => WorkerStateResponseSchema.parse(await rt.workers.state(params.id)), {
  scope: "read",
  summary: "A lane's state, current worker and summary",
  params: LaneParams,
  response: WorkerStateResponseSchema,
});

export const DELETE = route(async ({ params, body, rt, caller }) => WorkerStateResponseSchema.parse(await rt.workers.terminate(params.id, { graceMs: body.graceMs, by: caller.by })), {
  scope: "control",
  summary: "Terminate the lane's worker",
  description: "Answers once the process group is gone; 409 `not_running` if it has ended.",
  params: LaneParams,
  body: KillBodySchema,
  response: WorkerStateResponseSchema,
  errors: ["not_running"],
});
