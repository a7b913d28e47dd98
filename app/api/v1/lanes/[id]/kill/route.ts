import { KillBodySchema, LaneViewSchema } from "@/lib/api";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const POST = route(async ({ params, body, rt, caller }) => rt.lanes.kill(params.id, { graceMs: body.graceMs, by: caller.by }), {
  scope: "control",
  summary: "Stop a lane's running process group (SIGTERM, then SIGKILL after the grace period)",
  description: "Answers once the process group is gone; 409 `not_running` if it has ended. A running lane is killed on a full data disk too (it may be the one that filled it): the answer says `killed`, and what the database could not take yet (the lane's state, `lane.killed`) is recorded once there is room. Only a queued lane's kill, a write and nothing more, is refused then (503 `disk_full`).",
  params: LaneParams,
  body: KillBodySchema,
  response: LaneViewSchema,
  errors: ["not_running", "disk_full"],
});
