import { ProcessLogStreamQuerySchema } from "@/lib/api";
import { readQuery, route } from "../../../../../_lib/handler";
import { resumeCursor, sseResponse } from "../../../../../_lib/sse";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/processes/:id/logs/stream?stream=&from=&heartbeatMs= → text/event-stream of one output
 * stream from a byte offset (`Last-Event-ID` wins over `from`): `id: <next offset>` +
 * `data: { lines, next }`, live while the process runs, then `event: end` with the process and the stream closes.
 * 404 unknown process; 416 when `from` is past the end.
 */
export const GET = route<{ id: string }>(async ({ req, params, rt }) => {
  const { stream, from, heartbeatMs } = readQuery(req, ProcessLogStreamQuerySchema);
  const offset = resumeCursor(req, from) ?? 0;
  await rt.logStreams.check(params.id, stream, offset);
  return sseResponse(
    req,
    async function* (signal) {
      for await (const step of rt.logStreams.follow(params.id, stream, offset, signal)) {
        yield [step.kind === "lines" ? { id: step.next, data: { lines: step.lines, next: step.next } } : { id: step.next, event: "end", data: { process: step.process, next: step.next } }];
      }
    },
    { heartbeatMs },
  );
}, { scope: "read" });
