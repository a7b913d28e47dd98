import { EventsQuerySchema } from "@/lib/api";
import { readQuery, route } from "../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/events?after=<id>&laneId=&limit= → { events, cursor }: everything after the cursor, oldest first. */
export const GET = route(async ({ req, rt }) => {
  const { after, laneId, limit } = readQuery(req, EventsQuerySchema);
  return rt.events.listAfter(after, { laneId, limit });
});
