/**
 * `GET /api/v1/board` through its real route handler against a real runtime: the body is the
 * board document, made once per change — the same ETag (and `304` for a client holding it) while
 * nothing changed, a new one after any change — and gzipped for a client that accepts it.
 */
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { apiRequest } from "@/server/testing/auth";
import { isTerminal, runtimePerFile, shellPacket, waitForLane } from "@/server/testing/runtime-harness";
import { acceptsGzip } from "../../_lib/cached-body";
import * as lanes from "../lanes/route";
import { GET } from "./route";

const h = runtimePerFile({}, { global: true });
const none = { params: Promise.resolve({}) };
const board = (headers: Record<string, string> = {}) => GET(apiRequest("GET", "/api/v1/board", undefined, headers), none);

describe("GET /api/v1/board", () => {
  it("answers the same ETag while nothing changed, 304 to a client holding it, and a new one after a change", async () => {
    const first = await board();
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get("cache-control")).toBe("no-cache");
    const doc = (await first.json()) as { lanes: unknown[]; cursor: number };
    expect((await board()).headers.get("etag")).toBe(etag);

    const held = await board({ "if-none-match": etag });
    expect(held.status).toBe(304);
    expect(await held.text()).toBe("");

    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    await waitForLane(h.rt, lane.id, isTerminal);
    const after = await board({ "if-none-match": etag });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(etag);
    const next = (await after.json()) as { lanes: { id: string }[]; cursor: number };
    expect(next.lanes.map((l) => l.id)).toContain(lane.id);
    expect(next.lanes.length).toBe(doc.lanes.length + 1);
    expect(next.cursor).toBeGreaterThan(doc.cursor);
  });

  it("is gzipped for a client that accepts gzip, and decodes to the same document", async () => {
    const plain = await board({ "accept-encoding": "identity" });
    expect(plain.headers.get("content-encoding")).toBeNull();
    const text = await plain.text();
    const zipped = await board({ "accept-encoding": "gzip, deflate, br" });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(zipped.headers.get("vary")).toBe("accept-encoding");
    expect(gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString("utf8")).toBe(text);
  });
});

describe("GET /api/v1/lanes?ids=", () => {
  it("answers only those lanes in creation order, leaves unknown ids out, and refuses more than 100 ids with 422", async () => {
    const a = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    const b = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    const res = await lanes.GET(apiRequest("GET", `/api/v1/lanes?ids=${b.id},nope,${a.id}`), none);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: { id: string }[] }).items.map((l) => l.id)).toEqual([a.id, b.id]);
    const many = Array.from({ length: 101 }, (_, i) => `id-${i}`).join(",");
    const refused = await lanes.GET(apiRequest("GET", `/api/v1/lanes?ids=${many}`), none);
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { code: string; message: string } }).error.message).toContain("ids");
  });
});

describe("acceptsGzip", () => {
  it("reads Accept-Encoding as RFC 9110 says: listed or *, unless q=0", () => {
    expect(acceptsGzip("gzip, deflate, br")).toBe(true);
    expect(acceptsGzip("br;q=1.0, gzip;q=0.8")).toBe(true);
    expect(acceptsGzip("*")).toBe(true);
    expect(acceptsGzip("GZIP")).toBe(true);
    expect(acceptsGzip("gzip;q=0")).toBe(false);
    expect(acceptsGzip("*, gzip;q=0")).toBe(false);
    expect(acceptsGzip("*;q=0")).toBe(false);
    expect(acceptsGzip("identity")).toBe(false);
    expect(acceptsGzip("deflate, br")).toBe(false);
    expect(acceptsGzip(null)).toBe(false);
  });
});
