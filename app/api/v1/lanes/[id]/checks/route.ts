import { route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes/:id/checks → { laneId, runs, levels }: every check run with its counts and failure class, and red/green per level. */
export const GET = route<{ id: string }>(async ({ params, rt }) => rt.merge.checkReport(params.id), { scope: "read" });
