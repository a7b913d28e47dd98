/**
 * Server-sent events (the `text/event-stream` format of the WHATWG HTML standard, §9.2) from an
 * async iterator of messages. Backpressure is the stream's own: the next message is pulled from
 * the iterator only when the client has taken the previous one, so a slow client makes its
 * producer fall back to reading the log instead of queueing without bound.
 *
 * Heartbeats are comment lines (`: ping`) every `heartbeatMs`, so proxies and load balancers
 * that close idle connections keep it open; clients ignore them.
 */

import { AppError, isAppError } from "@/lib/errors";

/** One message: `id:` (the resume cursor), optional `event:` name, `data:` (JSON-encoded). */
export interface SseMessage {
  id?: string | number;
  event?: string;
  data: unknown;
}

/** Reconnection delay suggested to EventSource clients (`retry:`), ms. */
const RETRY_MS = 1000;

/** Encode one message; `data` is one JSON line, so it never needs splitting. */
export function encodeSse(message: SseMessage): string {
  let out = "";
  if (message.id !== undefined) out += `id: ${message.id}\n`;
  if (message.event) out += `event: ${message.event}\n`;
  return `${out}data: ${JSON.stringify(message.data)}\n\n`;
}

/**
 * A streaming response. `produce` gets an AbortSignal that fires when the client goes away (or
 * the response is cancelled) and yields batches of messages; when it returns, the stream ends.
 */
export function sseResponse(req: Request, produce: (signal: AbortSignal) => AsyncIterator<SseMessage[]>, opts: { heartbeatMs: number }): Response {
  const abort = new AbortController();
  const onClientGone = () => abort.abort();
  req.signal?.addEventListener("abort", onClientGone);
  const encoder = new TextEncoder();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let iterator: AsyncIterator<SseMessage[]> | undefined;
  const stop = () => {
    clearInterval(heartbeat);
    req.signal?.removeEventListener("abort", onClientGone);
    abort.abort();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(`retry: ${RETRY_MS}\n: connected\n\n`));
        heartbeat = setInterval(() => {
          try {
            controller.enqueue(encoder.encode(": ping\n\n"));
          } catch {
            stop();
          }
        }, opts.heartbeatMs);
        iterator = produce(abort.signal);
      },
      async pull(controller) {
        try {
          const step = await iterator!.next();
          // Cancelled while waiting: the stream is closed already.
          if (abort.signal.aborted) return;
          if (step.done) {
            stop();
            controller.close();
            return;
          }
          if (step.value.length) controller.enqueue(encoder.encode(step.value.map(encodeSse).join("")));
        } catch (err) {
          if (abort.signal.aborted) return;
          // Headers are gone already: the error is the last message, then the stream ends.
          const error = isAppError(err) ? { code: err.code, message: err.message } : { code: "internal", message: "internal error" };
          if (!isAppError(err)) console.error("[sse] stream failed", err);
          controller.enqueue(encoder.encode(encodeSse({ event: "error", data: { error } })));
          stop();
          controller.close();
        }
      },
      async cancel() {
        stop();
        await iterator?.return?.();
      },
    },
    { highWaterMark: 1 },
  );
  return new Response(body, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      // no-transform: compression middleware must not buffer the stream.
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
}

/**
 * The cursor a client resumes from: the `Last-Event-ID` header (sent by an EventSource when it
 * reconnects) wins over the `after`/`from` query value it was first opened with.
 * @throws AppError invalid_input when the header is not a cursor.
 */
export function resumeCursor(req: Request, fromQuery: number | undefined): number | undefined {
  const header = req.headers.get("last-event-id")?.trim();
  if (!header) return fromQuery;
  if (!/^\d{1,15}$/.test(header)) throw new AppError("invalid_input", "Last-Event-ID: must be a cursor (a non-negative integer)", { fields: ["Last-Event-ID"] });
  return Number(header);
}
