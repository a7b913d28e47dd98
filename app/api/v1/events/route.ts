import { EventsQuerySchema, EventsResponseSchema } from "@/lib/api";
import { route } from "../../_lib/handler";
import { repoFilterFor } from "../../_lib/repo-reach";

export const GET = route(
  async ({ query, rt, caller }) => {
    const { after, before, order, limit, ...rest } = query;
    const filter = { ...rest, repoId: repoFilterFor(caller, rest.repoId) };
    if (before !== undefined || order === "desc") {
      const page = await rt.events.listBefore(before, { ...filter, limit });
      return { events: page.events, cursor: page.events[0]?.id ?? after, before: page.before };
    }
    await rt.events.assertCursorKept(after);
    return rt.events.listAfter(after, { ...filter, limit });
  },
  {
    scope: "read",
    summary: "Lane events after a cursor (oldest first), or a page of them newest first",
    description:
      "`after=<id>`: everything after the cursor, oldest first; 410 `gone` (with `details.oldestCursor`) when the cursor is older than the oldest kept event. " +
      "With `before=<id>` or `order=desc`: newest first, and `before` in the answer is the cursor of the next older page (null at the oldest).",
    query: EventsQuerySchema,
    response: EventsResponseSchema,
    errors: ["gone"],
  },
);
