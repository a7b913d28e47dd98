/**
 * A large JSON body answered with HTTP caching derived once per body: a strong ETag (SHA-1 of the
 * bytes; RFC 9110 §8.8.3), so a client holding it gets `304 Not Modified` (`If-None-Match`, RFC
 * 9110 §13.1.2) with no body. The ETag is kept in a WeakMap keyed by the Buffer object: a producer
 * that returns the very same Buffer while nothing changed (LaneService.boardBody) hashes it once
 * per change instead of once per request.
 *
 * Compression is left to Next.js (its `compress`, gzip on libuv's thread pool): it drops a route's
 * own `Content-Encoding` and compresses again, so a body gzipped here arrived gzipped twice.
 */
import { createHash } from "node:crypto";

const etags = new WeakMap<Buffer, string>();

function etagOf(body: Buffer): string {
  let etag = etags.get(body);
  if (!etag) etags.set(body, (etag = `"${createHash("sha1").update(body).digest("base64url")}"`));
  return etag;
}

/**
 * A Buffer as a one-chunk stream body. A Uint8Array body would be copied by the Response
 * constructor (undici's extractBody), a fresh megabytes-long allocation per request for the board;
 * a stream hands Next.js the cached bytes themselves to write.
 */
function streamOf(b: Buffer): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(b);
      controller.close();
    },
  });
}

/** Whether an `If-None-Match` value names `etag` (weak comparison, RFC 9110 §13.1.2), or is `*`. */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

/**
 * `200` with `body` as `application/json`, or `304` when the request already holds it.
 * `Cache-Control: no-cache`: a client may keep it but must ask again each time (and gets the 304
 * when nothing changed).
 */
export async function cachedJsonResponse(req: Request, body: Buffer): Promise<Response> {
  const etag = etagOf(body);
  const headers: Record<string, string> = { "content-type": "application/json", etag, "cache-control": "no-cache" };
  if (matches(req.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });
  return new Response(streamOf(body), { headers });
}
