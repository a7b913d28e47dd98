import { MergeBodySchema } from "@/lib/api";
import { readBody, route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes/:id/merge → MergeReadiness (green at the required level, not stale, no conflict; computed now). */
export const GET = route<{ id: string }>(async ({ params, rt }) => rt.merge.readiness(params.id), { scope: "read" });

/**
 * POST /api/v1/lanes/:id/merge { strategy?: "ff" | "merge" | "squash", cleanup?: boolean, force?: boolean } → MergeResult.
 * 409 conflict (running, already merged, a conflict, base moved, local edits in a checked-out base, a git lock; `details.kind`),
 * 409 not_ready (not green or stale, without force).
 */
export const POST = route<{ id: string }>(async ({ req, params, rt, caller }) => rt.merge.merge(params.id, await readBody(req, MergeBodySchema), caller.by), { scope: "control", idempotent: true });
