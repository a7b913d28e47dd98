import { route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes/:id/diff → LaneDiff: files the branch changed against the merge base with its base (409 when the branch is gone). */
export const GET = route<{ id: string }>(async ({ params, rt }) => rt.diff.files(params.id), { scope: "read" });
