import { route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes/:id/freshness → LaneFreshness (ahead/behind, base moved, missing commits, worktree and problems; computed now). */
export const GET = route<{ id: string }>(async ({ params, rt }) => rt.freshness.assess(params.id, "api"), { scope: "read" });
