import { KillBodySchema } from "@/lib/api";
import { readBody, route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** POST /api/v1/lanes/:id/kill { graceMs? } → LaneView once the process group is gone; 409 not_running if it has ended. */
export const POST = route<{ id: string }>(async ({ req, params, rt, caller }) => {
  const body = await readBody(req, KillBodySchema);
  return rt.lanes.kill(params.id, { graceMs: body.graceMs, by: caller.by });
}, { scope: "control" });
