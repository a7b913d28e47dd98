import { route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes/:id/attempts → LaneAttempts: every attempt's processes, checks, usage and event range, plus lane and repo usage. */
export const GET = route<{ id: string }>(async ({ params, rt }) => rt.attempts.list(params.id), { scope: "read" });
