import { EventsQuerySchema } from "@/lib/api";
import { readQuery, route } from "../../_lib/handler";
import { repoFilterFor } from "../../_lib/repo-reach";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/events?after=<id>&laneId=&repoId=&types=&limit= → { events, cursor }: everything after the
 * cursor, oldest first (410 gone when the cursor is older than the oldest kept event).
 * With `before=<id>` or `order=desc`: newest first → { events, cursor, before } (pass `before` for the next older page).
 */
export const GET = route(async ({ req, rt, caller }) => {
  const { after, before, order, limit, ...query } = readQuery(req, EventsQuerySchema);
  const filter = { ...query, repoId: repoFilterFor(caller, query.repoId) };
  if (before !== undefined || order === "desc") {
    const page = await rt.events.listBefore(before, { ...filter, limit });
    return { events: page.events, cursor: page.events[0]?.id ?? after, before: page.before };
  }
  await rt.events.assertCursorKept(after);
  return rt.events.listAfter(after, { ...filter, limit });
}, { scope: "read" });
