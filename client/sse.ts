/**
 * A server-sent events reader over fetch (for Node claws, the CLI and tests): parses the stream
 * with `eventsource-parser` and, in {@link followSse}, reconnects after a dropped connection with
 * `Last-Event-ID` set to the last id received, as an EventSource does, so nothing is missed or
 * read twice.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { ApiError } from "@/lib/api-error";

export interface SseOptions {
  headers?: Record<string, string>;
  /** Sent as `Last-Event-ID`. */
  lastEventId?: string;
  signal?: AbortSignal;
  /** Called for each comment line (heartbeats are `: ping`). */
  onComment?: (comment: string) => void;
}

/**
 * Messages of one connection until the server ends the stream or `signal` aborts (then it
 * returns, yielding nothing more).
 * @throws ApiError with the error body's code when the response is not a 2xx event stream
 */
export async function* readSse(url: string, opts: SseOptions = {}): AsyncGenerator<EventSourceMessage, void, undefined> {
  const headers: Record<string, string> = { accept: "text/event-stream", ...opts.headers };
  if (opts.lastEventId !== undefined) headers["last-event-id"] = opts.lastEventId;
  const res = await fetch(url, { headers, signal: opts.signal });
  if (!res.ok || !res.body) throw await ApiError.fromResponse(res);
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (m) => pending.push(m), onComment: opts.onComment });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.feed(value);
      while (pending.length && !opts.signal?.aborted) yield pending.shift()!;
    }
  } catch (err) {
    // An abort is how the caller hangs up: the stream just ends.
    if (!opts.signal?.aborted) throw err;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Messages across reconnects: when a connection drops (network error, server restart) it
 * reconnects after `retryMs` with the last id seen. Ends when the server ends a stream normally
 * and `untilEnd` is set (logs), or when `signal` aborts. An HTTP error answer (401, 404, 410, …)
 * is thrown, never retried.
 */
export async function* followSse(url: string, opts: SseOptions & { retryMs?: number; untilEnd?: boolean } = {}): AsyncGenerator<EventSourceMessage, void, undefined> {
  let lastEventId = opts.lastEventId;
  for (;;) {
    try {
      for await (const message of readSse(url, { ...opts, lastEventId })) {
        if (message.id) lastEventId = message.id;
        yield message;
      }
      if (opts.untilEnd) return;
    } catch (err) {
      if (err instanceof ApiError || opts.signal?.aborted) throw err;
    }
    if (opts.signal?.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, opts.retryMs ?? 1000));
  }
}
