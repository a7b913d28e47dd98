/**
 * A large JSON body answered with what HTTP offers for it, each derived once per body: a strong
 * ETag (SHA-1 of the bytes; RFC 9110 §8.8.3) so a client holding it gets `304 Not Modified`
 * (`If-None-Match`, RFC 9110 §13.1.2) with no body, and a gzip copy (RFC 1952) for a client that
 * accepts it, made on libuv's thread pool so the event loop keeps serving meanwhile.
 *
 * Both are kept in a WeakMap keyed by the Buffer object: a producer that returns the very same
 * Buffer while nothing changed (LaneService.boardBody) pays for the hash and the compression once
 * per change instead of once per request, and a replaced body's copies are collected with it.
 * The response carries `Content-Encoding` itself, so Next.js's own compression leaves it alone.
 */
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";

const gzip = promisify(gzipCallback);

/** Below this many bytes compressing costs more than it saves. */
const MIN_GZIP_BYTES = 1024;

interface Derived {
  etag: string;
  gzipped?: Promise<Buffer>;
}

const derived = new WeakMap<Buffer, Derived>();

function derive(body: Buffer): Derived {
  let d = derived.get(body);
  if (!d) derived.set(body, (d = { etag: `"${createHash("sha1").update(body).digest("base64url")}"` }));
  return d;
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

/** Whether an `Accept-Encoding` value (RFC 9110 §12.5.3) accepts gzip: listed (or `*`) without `q=0`. */
export function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  let star = false;
  for (const part of header.split(",")) {
    const [coding = "", ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    const ok = q === undefined || Number(q) > 0;
    if (coding.trim() === "gzip" || coding.trim() === "x-gzip") return ok;
    if (coding.trim() === "*") star = ok;
  }
  return star;
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
 * `200` with `body` as `application/json` (gzipped when the request accepts it), or `304` when
 * the request already holds it. `Cache-Control: no-cache`: a client may keep it but must ask
 * again each time (and gets the 304 when nothing changed).
 */
export async function cachedJsonResponse(req: Request, body: Buffer): Promise<Response> {
  const d = derive(body);
  const headers: Record<string, string> = { "content-type": "application/json", etag: d.etag, "cache-control": "no-cache", vary: "accept-encoding" };
  if (matches(req.headers.get("if-none-match"), d.etag)) return new Response(null, { status: 304, headers });
  if (body.length >= MIN_GZIP_BYTES && acceptsGzip(req.headers.get("accept-encoding"))) {
    d.gzipped ??= gzip(body);
    const bytes = await d.gzipped;
    return new Response(streamOf(bytes), { headers: { ...headers, "content-encoding": "gzip", "content-length": String(bytes.length) } });
  }
  return new Response(streamOf(body), { headers: { ...headers, "content-length": String(body.length) } });
}
