/**
 * The HTTP side of the server's life, in front of whatever handles requests (Next.js):
 * - every request gets a request id (`x-request-id`: the client's, if it sent a sane one, else a
 *   new UUID), set on the request for the handlers and on the response, so a 500 in the log can be
 *   found from what the client saw;
 * - `/api/v1` answers that Next.js would give as its HTML 404 page (no such route) or an empty 405
 *   (the route has no such method) become the API's JSON error shape (see api-fallbacks.ts);
 * - shutdown: {@link HttpLifecycle.beginShutdown} stops accepting connections, closes idle
 *   keep-alive connections at once, answers every request that arrives on a held connection with
 *   `503 unavailable` and `Connection: close`, and marks the responses still in flight
 *   `Connection: close` so Node closes their connections once they are sent;
 *   {@link HttpLifecycle.drained} resolves when the requests in flight have been answered.
 * - keep-alive: idle connections are kept {@link KEEP_ALIVE_TIMEOUT_MS} (announced as
 *   `Keep-Alive: timeout=65`), not Node's default 5 s. A client that reuses an idle connection at
 *   the moment the server closes it gets ECONNRESET on a request the server never saw (the
 *   keep-alive race, RFC 9112 §9.8; nodejs/node#52649). Board tabs, claws and CLIs poll every
 *   one to a few seconds, right in a 5 s window; few clients hold a connection idle past 65 s, and
 *   those that read the hint close it first.
 * Plain `node:http`: nothing here knows Next.js.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { apiFallback } from "./api-fallbacks";

export const REQUEST_ID_HEADER = "x-request-id";
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** How long an idle keep-alive connection is kept, ms (what load balancers commonly use: 60 s + margin). */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface HttpLifecycle {
  /** Wrap one request: `next` runs the real handler unless the server is shutting down. */
  handle(req: IncomingMessage, res: ServerResponse, next: () => void): void;
  /** Stop accepting: see the module comment. Idempotent. */
  beginShutdown(): void;
  /** Resolves true once no request is in flight, false if `timeoutMs` passed first. */
  drained(timeoutMs: number): Promise<boolean>;
  /** Answer every request still in flight (headers not sent yet) with 503 and `Connection: close`. */
  refuseInFlight(): void;
  /** Requests being handled right now. */
  readonly inFlight: number;
}

export function createHttpLifecycle(server: Server): HttpLifecycle {
  const inFlight = new Set<ServerResponse>();
  const waiters = new Set<() => void>();
  let stopping = false;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Node wants the time allowed for a request's headers to exceed the keep-alive timeout, so a
  // connection idle until just before it closes still gets its full headers window.
  server.headersTimeout = Math.max(server.headersTimeout, KEEP_ALIVE_TIMEOUT_MS + 1_000);

  const refuse = (res: ServerResponse) => {
    const body = JSON.stringify({ error: { code: "unavailable", message: "the server is shutting down; retry against the next one" } });
    res.writeHead(503, { "content-type": "application/json", connection: "close", "retry-after": "1", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };

  return {
    get inFlight() {
      return inFlight.size;
    },
    handle(req, res, next) {
      const given = req.headers[REQUEST_ID_HEADER];
      const id = typeof given === "string" && SANE_ID.test(given) ? given : randomUUID();
      req.headers[REQUEST_ID_HEADER] = id;
      res.setHeader(REQUEST_ID_HEADER, id);
      if (stopping) return refuse(res);
      if (malformedApiPath(req.url)) {
        // Next.js would fail decoding it with a 500 before any route handler runs.
        const body = JSON.stringify({ error: { code: "bad_request", message: "malformed percent-encoding in the request path" } });
        res.writeHead(400, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        return void res.end(body);
      }
      inFlight.add(res);
      res.once("close", () => {
        inFlight.delete(res);
        if (inFlight.size === 0) for (const w of waiters) w();
      });
      apiFallback(req, res);
      next();
    },
    beginShutdown() {
      if (stopping) return;
      stopping = true;
      server.close();
      server.closeIdleConnections();
      for (const res of inFlight) if (!res.headersSent) res.setHeader("connection", "close");
    },
    refuseInFlight() {
      for (const res of inFlight) if (!res.headersSent) refuse(res);
    },
    drained(timeoutMs) {
      if (inFlight.size === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (ok: boolean) => {
          waiters.delete(onEmpty);
          clearTimeout(timer);
          resolve(ok);
        };
        const onEmpty = () => done(true);
        const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
        waiters.add(onEmpty);
      });
    },
  };
}

/** True for an `/api/` path whose percent-encoding does not decode (`%ZZ`, a cut UTF-8 sequence). */
export function malformedApiPath(url: string | undefined): boolean {
  if (!url?.startsWith("/api/")) return false;
  const q = url.indexOf("?");
  try {
    decodeURIComponent(q < 0 ? url : url.slice(0, q));
    return false;
  } catch {
    return true;
  }
}
