import { route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** POST /api/v1/lanes/:id/restart → LaneView (re-queued in the same worktree); 409 if still live. */
export const POST = route<{ id: string }>(async ({ params, rt, caller }) => rt.lanes.restart(params.id, { by: caller.by }), { scope: "control", idempotent: true });
