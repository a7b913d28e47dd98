/**
 * A large JSON body answered with HTTP caching and compression derived once per body, not once per
 * request: a strong ETag (SHA-1 of the bytes; RFC 9110 §8.8.3), so a client holding it gets
 * `304 Not Modified` (`If-None-Match`, RFC 9110 §13.1.2) with no body, and its gzip (RFC 1952),
 * sent to a client that accepts it (`Accept-Encoding`, RFC 9110 §12.5.3). Both are kept in
 * WeakMaps keyed by the Buffer object: a producer that returns the very same Buffer while nothing
 * changed (LaneService.boardBody) hashes and compresses it once per change. The coding is named in
 * PRECOMPRESSED_HEADER, since Next.js drops a route's own `Content-Encoding`.
 *
 * Compressing the 1.6 MB board of 1,000 lanes on every request cost more than everything else
 * the request does; the gzipped form is about a tenth of it. The server's general compression
 * (server/main.ts) leaves a response that already has a `Content-Encoding` alone.
 */
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import Negotiator from "negotiator";
import { PRECOMPRESSED_HEADER } from "@/lib/precompressed-header";

const gzipAsync = promisify(gzip);
const etags = new WeakMap<Buffer, string>();
const gzips = new WeakMap<Buffer, Promise<Buffer>>();

function etagOf(body: Buffer): string {
  let etag = etags.get(body);
  if (!etag) etags.set(body, (etag = `"${createHash("sha1").update(body).digest("base64url")}"`));
  return etag;
}

/** The body gzipped, once per Buffer; on libuv's thread pool, so the event loop is not held. */
function gzipOf(body: Buffer): Promise<Buffer> {
  let z = gzips.get(body);
  if (!z) {
    // Level 4: within a few per cent of level 6's size on this JSON, in about half the time.
    gzips.set(body, (z = gzipAsync(body, { level: 4 })));
    z.catch(() => gzips.delete(body));
  }
  return z;
}

/**
 * Whether the request's `Accept-Encoding` lets the answer be gzipped (RFC 9110 §12.5.3: named, or
 * `*`, with a nonzero q), read by `negotiator`, the parser the server's general compression uses.
 */
export function acceptsGzip(acceptEncoding: string | null): boolean {
  if (!acceptEncoding) return false;
  return new Negotiator({ headers: { "accept-encoding": acceptEncoding } }).encoding(["gzip"]) === "gzip";
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
 * `200` with `body` as `application/json` (gzipped when the client accepts it), or `304` when the
 * request already holds it. `Cache-Control: no-cache`: a client may keep it but must ask again
 * each time (and gets the 304 when nothing changed). The gzipped form is a representation of its
 * own, so its ETag differs (`"<sha1>-gz"`; RFC 9110 §8.8.3.3) and `Vary: Accept-Encoding` says why.
 */
export async function cachedJsonResponse(req: Request, body: Buffer): Promise<Response> {
  const gz = acceptsGzip(req.headers.get("accept-encoding"));
  const etag = gz ? `${etagOf(body).slice(0, -1)}-gz"` : etagOf(body);
  const headers: Record<string, string> = { "content-type": "application/json", etag, "cache-control": "no-cache", vary: "accept-encoding" };
  if (matches(req.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });
  if (!gz) return new Response(streamOf(body), { headers });
  // Next.js drops a route's Content-Encoding; the server restores it from this header (server/http/precompressed.ts).
  return new Response(streamOf(await gzipOf(body)), { headers: { ...headers, [PRECOMPRESSED_HEADER]: "gzip" } });
}
