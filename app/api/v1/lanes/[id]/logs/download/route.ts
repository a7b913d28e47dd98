import { route } from "../../../../../_lib/handler";
import { LaneParams } from "../../../../../_lib/params";

export const GET = route(
  async ({ params, rt }) => {
    const chunks = rt.lanes.exportLog(params.id);
    const first = await chunks.next(); // fails here (404) before any byte is sent
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (!first.done) controller.enqueue(encoder.encode(first.value));
      },
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await chunks.return(undefined);
      },
    });
    const name = `lane-${params.id.replace(/[^A-Za-z0-9_-]/g, "_")}.log`;
    return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8", "content-disposition": `attachment; filename="${name}"`, "cache-control": "no-store" } });
  },
  {
    scope: "read",
    summary: "A lane's whole log as a text attachment: every attempt's every process, stdout and stderr in the order the process wrote them",
    description: "The order across stdout and stderr is as far as the server can tell (docs/architecture.md). 404 for an unknown lane.",
    params: LaneParams,
    stream: "text/plain",
  },
);
