/**
 * `GET /api/v1/board` through its real route handler against a real runtime: the body is the
 * board document, made once per change — the same ETag (and `304` for a client holding it) while
 * nothing changed, a new one after any change — and its gzip, made once per change too. (That the
 * real server sends it gzipped once is checked by e2e/compression.spec.ts.)
 */
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { PRECOMPRESSED_HEADER } from "@/lib/precompressed-header";
import { apiRequest } from "@/server/testing/auth";
import { isTerminal, runtimePerFile, shellPacket, waitForLane } from "@/server/testing/runtime-harness";
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
});

describe("GET /api/v1/board with Accept-Encoding: gzip", () => {
  it("answers the document gzipped, with an ETag of its own that gets a 304, and the same gzipped bytes while nothing changed", async () => {
    // Answers of one version of the board. The lane of the test before may still be settling
    // (its freshness and merge readiness change the board after it ended), so they are read again
    // when the board moved between them: within one version a gzip is the same bytes each time
    // and its ETag gets a 304; another version has another ETag.
    const read = async () => {
      const [plain, zipped, again] = [await board(), await board({ "accept-encoding": "gzip, deflate" }), await board({ "accept-encoding": "gzip" })];
      const held = await board({ "accept-encoding": "gzip", "if-none-match": zipped.headers.get("etag")! });
      return { plain, zipped, again, held };
    };
    const version = (r: Response) => r.headers.get("etag")!.replace(/-gz"$/, '"');
    const oneVersion = (r: Awaited<ReturnType<typeof read>>) => version(r.plain) === version(r.zipped) && version(r.zipped) === version(r.again) && r.held.status !== 200;
    let r = await read();
    for (let tries = 1; !oneVersion(r); tries++) {
      if (tries === 50) throw new Error("in 50 tries, never four answers of one board version (plain, gzip twice, then a 304)");
      r = await read();
    }
    const { plain, zipped, again, held } = r;
    // Named in the header the server turns into Content-Encoding (Next.js drops a route's own).
    expect(zipped.headers.get(PRECOMPRESSED_HEADER)).toBe("gzip");
    expect(zipped.headers.get("vary")).toBe("accept-encoding");
    const bytes = Buffer.from(await zipped.arrayBuffer());
    expect(JSON.parse(gunzipSync(bytes).toString("utf8"))).toEqual(await plain.json());
    const etag = zipped.headers.get("etag")!;
    expect(etag).toBe(`${plain.headers.get("etag")!.slice(0, -1)}-gz"`);
    expect(again.headers.get("etag")).toBe(etag);
    expect(Buffer.from(await again.arrayBuffer()).equals(bytes)).toBe(true);
    expect(held.status).toBe(304);
    // The plain representation's ETag is not the gzipped one's.
    expect((await board({ "accept-encoding": "gzip", "if-none-match": plain.headers.get("etag")! })).status).toBe(200);
    expect((await board({ "accept-encoding": "identity" })).headers.get(PRECOMPRESSED_HEADER)).toBeNull();
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
