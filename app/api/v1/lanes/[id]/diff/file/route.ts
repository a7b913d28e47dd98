import { LaneDiffFileQuerySchema } from "@/lib/review-api";
import { readQuery, route } from "../../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes/:id/diff/file?path=[&base=&head=] → LaneDiffFile: one listed file's unified diff (422 for a path the diff does not list). */
export const GET = route<{ id: string }>(async ({ req, params, rt }) => {
  const q = readQuery(req, LaneDiffFileQuerySchema);
  return rt.diff.file(params.id, q.path, { base: q.base, head: q.head });
}, { scope: "read" });
