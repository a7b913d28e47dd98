import { KillBodySchema, LaneViewSchema } from "@/lib/api";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const dynamic = "force-dynamic";

export const POST = route(async ({ params, body, rt, caller }) => rt.lanes.kill(params.id, { graceMs: body.graceMs, by: caller.by }), {
  scope: "control",
  summary: "Stop a lane's running process group (SIGTERM, then SIGKILL after the grace period)",
  description: "Answers once the process group is gone; 409 `not_running` if it has ended.",
  params: LaneParams,
  body: KillBodySchema,
  response: LaneViewSchema,
  errors: ["not_running"],
});
