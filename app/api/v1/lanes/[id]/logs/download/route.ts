import { errorResponse } from "../../../../../_lib/handler";
import { getRuntime } from "@/server/runtime-global";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes/:id/logs/download → text/plain attachment: every attempt's every process, stdout and stderr in the order the process wrote them (as far as the server can tell: docs/architecture.md). 404 for an unknown lane. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  try {
    const { id } = await ctx.params;
    const chunks = getRuntime().lanes.exportLog(id);
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
    const name = `lane-${id.replace(/[^A-Za-z0-9_-]/g, "_")}.log`;
    return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8", "content-disposition": `attachment; filename="${name}"`, "cache-control": "no-store" } });
  } catch (err) {
    return errorResponse(err);
  }
}
