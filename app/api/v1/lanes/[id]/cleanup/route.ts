import { CleanupBodySchema } from "@/lib/review-api";
import { readBody, route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** POST /api/v1/lanes/:id/cleanup { deleteBranch?: boolean } → CleanupResult: remove a merged lane's worktree (409 not_ready when not merged). */
export const POST = route<{ id: string }>(async ({ req, params, rt, caller }) => rt.merge.cleanup(params.id, (await readBody(req, CleanupBodySchema)).deleteBranch, caller.by), { scope: "control" });
