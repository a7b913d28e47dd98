import { EventStreamQuerySchema } from "@/lib/api";
import { readQuery, route } from "../../../_lib/handler";
import { repoFilterFor } from "../../../_lib/repo-reach";
import { resumeCursor, sseResponse } from "../../../_lib/sse";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/events/stream?after=&laneId=&repoId=&types=&heartbeatMs= → text/event-stream: each lane
 * event as `id: <cursor>` + `data: <LaneEvent JSON>`, from the cursor (`Last-Event-ID` wins over
 * `after`; neither: only new events), then live. 410 gone with `details.oldestCursor` when the
 * cursor is older than what the log keeps.
 */
export const GET = route(async ({ req, rt, caller }) => {
  const { after, heartbeatMs, ...query } = readQuery(req, EventStreamQuerySchema);
  const filter = { ...query, repoId: repoFilterFor(caller, query.repoId) };
  const cursor = resumeCursor(req, after) ?? (await rt.events.latestId());
  await rt.events.assertCursorKept(cursor);
  return sseResponse(
    req,
    async function* (signal) {
      for await (const batch of rt.events.follow(cursor, filter, signal)) yield batch.map((e) => ({ id: e.id, data: e }));
    },
    { heartbeatMs },
  );
}, { scope: "read" });
