import { ProcessLogStreamQuerySchema } from "@/lib/api";
import { route } from "../../../../../_lib/handler";
import { ProcessParams } from "../../../../../_lib/params";
import { resumeCursor, sseResponse } from "../../../../../_lib/sse";

export const GET = route(
  async ({ req, params, query, rt }) => {
    const { stream, from, heartbeatMs } = query;
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
  },
  {
    scope: "read",
    summary: "One output stream of a process as server-sent events, from a byte offset, then live",
    description:
      "`id: <next offset>` + `data: { lines, next }` (resume with `Last-Event-ID`, which wins over `from`); live while the process runs, then `event: end` with the process, and the stream closes. " +
      "416 `range_not_satisfiable` when `from` is past the end.",
    params: ProcessParams,
    query: ProcessLogStreamQuerySchema,
    stream: "text/event-stream",
    errors: ["range_not_satisfiable"],
  },
);
