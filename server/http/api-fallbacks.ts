/**
 * `/api/v1` answers that do not come from our route handlers, rewritten into the API's error shape
 * `{ error: { code, message } }`: Next.js answers a path no route matches with its HTML 404 page,
 * a method a route does not export with an empty 405, and a `multipart/form-data` POST to a path
 * no route matches as a Server Action it cannot find (`409` "Server Action unavailable.", text);
 * route handlers never take Server Actions, so that one is the 404 it really is. A client of the
 * API (a claw) must be able to read every answer as JSON.
 *
 * How: the response's `writeHead`/`write`/`end` are wrapped for `/api/v1` requests; when the
 * status about to be sent is an error (4xx/5xx) without a JSON content type, or 405, the status
 * and headers are replaced (`content-type: application/json`, the body's length) and Next.js's
 * body is dropped for ours. Our own answers are always JSON (route.ts), so they pass untouched.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

const API_PREFIX = "/api/v1";

/** The status and JSON error for an answer Next.js produced, or null when the answer is ours to keep. */
function replacement(req: IncomingMessage, res: ServerResponse): { status: number; body: string } | null {
  const json = String(res.getHeader("content-type") ?? "").includes("application/json");
  const error = (status: number, code: string, message: string) => ({ status, body: JSON.stringify({ error: { code, message } }) });
  if (res.statusCode === 405) return error(405, "method_not_allowed", `${req.method} is not allowed on ${pathOf(req)}`);
  if (json || res.statusCode < 400) return null;
  // Next's 404 page, and its Server Action lookup on a path no route handler matched.
  if (res.statusCode === 404 || res.statusCode === 409) return error(404, "not_found", `no API route ${pathOf(req)}`);
  if (res.statusCode >= 500) return error(res.statusCode, "internal", "internal error");
  return error(res.statusCode, "bad_request", `the request was refused before reaching an API route (${res.statusCode})`);
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return (q < 0 ? url : url.slice(0, q)).slice(0, 300);
}

/** Install the rewrite on one response (no-op outside `/api/v1`). */
export function apiFallback(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "";
  if (url !== API_PREFIX && !url.startsWith(`${API_PREFIX}/`) && !url.startsWith(`${API_PREFIX}?`)) return;
  const { writeHead, write, end } = res;
  let decided = false;
  let body: string | null = null;
  const decide = () => {
    if (decided) return;
    decided = true;
    const answer = replacement(req, res);
    if (answer === null) return;
    body = answer.body;
    res.statusCode = answer.status;
    res.removeHeader("content-encoding");
    res.removeHeader("transfer-encoding");
    res.setHeader("content-type", "application/json");
    res.setHeader("content-length", Buffer.byteLength(body));
  };
  res.writeHead = function (this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    res.statusCode = statusCode;
    // Headers given to writeHead itself are applied first, so the decision sees them.
    const headers = rest.find((r) => typeof r === "object" && r !== null) as Record<string, string | number | string[]> | undefined;
    if (headers && !Array.isArray(headers)) for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    decide();
    return writeHead.call(this, res.statusCode);
  } as ServerResponse["writeHead"];
  res.write = function (this: ServerResponse, ...args: unknown[]) {
    decide();
    if (body === null) return (write as (...a: unknown[]) => boolean).apply(this, args);
    const cb = args.find((x) => typeof x === "function") as (() => void) | undefined;
    if (cb) process.nextTick(cb);
    return true;
  } as ServerResponse["write"];
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    decide();
    if (body !== null) {
      const cb = args.find((x) => typeof x === "function") as (() => void) | undefined;
      return cb ? end.call(this, body, "utf8", cb) : end.call(this, body, "utf8");
    }
    return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse["end"];
}
