import { EventStreamQuerySchema } from "@/lib/api";
import { route } from "../../../_lib/handler";
import { repoFilterFor } from "../../../_lib/repo-reach";
import { resumeCursor, sseResponse } from "../../../_lib/sse";

export const GET = route(
  async ({ req, query, rt, caller }) => {
    const { after, heartbeatMs, ...rest } = query;
    const filter = { ...rest, repoId: repoFilterFor(caller, rest.repoId) };
    const cursor = resumeCursor(req, after) ?? (await rt.events.latestId());
    await rt.events.assertCursorKept(cursor);
    return sseResponse(
      req,
      async function* (signal) {
        for await (const batch of rt.events.follow(cursor, filter, signal)) yield batch.map((e) => ({ id: e.id, data: e }));
      },
      { heartbeatMs },
    );
  },
  {
    scope: "read",
    summary: "Lane events as server-sent events, from a cursor, then live",
    description:
      "Each event is `id: <cursor>` + `data: <LaneEvent JSON>`. A reconnecting client sends `Last-Event-ID` (it wins over `after`); neither: only new events. " +
      "`: ping` comment lines every `heartbeatMs`. 410 `gone` with `details.oldestCursor` when the cursor is older than what the log keeps.",
    query: EventStreamQuerySchema,
    stream: "text/event-stream",
    errors: ["gone"],
  },
);
