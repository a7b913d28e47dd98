/**
 * Compression against the real server, read as raw bytes (node:http, which, unlike fetch, does not
 * decode): the board document arrives gzipped exactly once when the client accepts gzip (the
 * route sends the bytes it compressed once per change; the server's general compression must not
 * compress them again), plain otherwise, with an ETag per representation; other answers are
 * gzipped by the server as Next.js did; the event stream is not compressed, so its events are not
 * held back in a compressor's buffer.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { gunzipSync } from "node:zlib";
import { adminToken, expect, test } from "./support";

const PORT = Number(process.env.LANEBOARD_E2E_PORT ?? 3917);

interface Raw {
  status: number;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/** One GET with the admin token, the body as the bytes that came over the wire. */
async function get(path: string, headers: Record<string, string> = {}): Promise<Raw> {
  const token = await adminToken();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: PORT, path, headers: { authorization: `Bearer ${token}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

test("the board is gzipped once for a client that accepts gzip, plain for one that does not, each with its own ETag", async () => {
  const plain = await get("/api/v1/board", { "accept-encoding": "identity" });
  expect(plain.status).toBe(200);
  expect(plain.headers["content-encoding"]).toBeUndefined();
  const doc = JSON.parse(plain.body.toString("utf8")) as { lanes: unknown[]; cursor: number };
  expect(Array.isArray(doc.lanes)).toBe(true);

  const zipped = await get("/api/v1/board", { "accept-encoding": "gzip, deflate, br" });
  expect(zipped.status).toBe(200);
  expect(zipped.headers["content-encoding"]).toBe("gzip");
  expect(zipped.headers.vary).toMatch(/accept-encoding/i);
  // One gunzip gives the JSON: compressed once, not twice.
  const unzipped = JSON.parse(gunzipSync(zipped.body).toString("utf8")) as { lanes: unknown[]; cursor: number };
  expect(Array.isArray(unzipped.lanes)).toBe(true);
  expect(zipped.body.length).toBeLessThan(plain.body.length);

  // Each representation has its own ETag (304s for it are checked in app/api/v1/board/board.test.ts).
  expect(zipped.headers.etag).toMatch(/-gz"$/);
  expect(plain.headers.etag).not.toMatch(/-gz"$/);

  // q=0 refuses gzip (RFC 9110 §12.5.3).
  const refused = await get("/api/v1/board", { "accept-encoding": "gzip;q=0" });
  expect(refused.headers["content-encoding"]).toBeUndefined();
  JSON.parse(refused.body.toString("utf8"));
});

test("other answers are gzipped by the server when accepted, and errors stay readable JSON", async () => {
  const doc = await get("/api/v1/openapi.json", { "accept-encoding": "gzip" });
  expect(doc.status).toBe(200);
  expect(doc.headers["content-encoding"]).toBe("gzip");
  expect(JSON.parse(gunzipSync(doc.body).toString("utf8"))).toHaveProperty("openapi");

  const missing = await get("/api/v1/no-such-route", { "accept-encoding": "gzip" });
  expect(missing.status).toBe(404);
  const raw = missing.headers["content-encoding"] === "gzip" ? gunzipSync(missing.body) : missing.body;
  expect(JSON.parse(raw.toString("utf8"))).toMatchObject({ error: { code: "not_found" } });
});

test("the event stream is not compressed: its first bytes arrive while the stream stays open", async () => {
  const token = await adminToken();
  const first = await new Promise<{ encoding: string | undefined; chunk: string }>((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port: PORT, path: "/api/v1/events/stream?after=0", headers: { authorization: `Bearer ${token}`, "accept-encoding": "gzip", accept: "text/event-stream" } },
      (res) => {
        res.once("data", (c: Buffer) => {
          resolve({ encoding: res.headers["content-encoding"], chunk: c.toString("utf8") });
          req.destroy();
        });
        res.on("error", () => undefined);
      },
    );
    req.on("error", reject);
    req.end();
  });
  expect(first.encoding).toBeUndefined();
  // SSE text (a comment, a retry field or an event), not compressed bytes.
  expect(first.chunk).toMatch(/^(:|retry:|id:|event:|data:)/m);
});
