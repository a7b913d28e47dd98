/**
 * Idempotency-Key on the creating calls, over real HTTP against a real runtime: a retry gets the
 * first answer and never a second lane; another body with the same key is 409.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shellPacket } from "@/server/testing/runtime-harness";
import { commitFile, initRepo, makeTempDir } from "@/server/git/git.testing";
import { startHttpRuntime, type HttpTestRuntime } from "../../_testing/route-server";
import { issueTestToken } from "@/server/testing/auth";

let h: HttpTestRuntime;
beforeAll(async () => {
  h = await startHttpRuntime();
});
afterAll(() => h.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${h.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...h.headers, ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
const laneCount = () => h.rt.db.lane.count();

describe("Idempotency-Key", () => {
  it("POST /api/v1/lanes – the same key and body return the first lane, never a second one", async () => {
    const packet = shellPacket(h.repoId, ["true"]);
    const before = await laneCount();
    const first = await post("/api/v1/lanes", packet, { "idempotency-key": "create-1" });
    expect(first.status).toBe(201);
    const lane = await first.json();
    // Same body with keys in another order and other whitespace: the same request.
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(packet).reverse()), null, 2);
    expect(reordered).not.toBe(JSON.stringify(packet));
    const again = await post("/api/v1/lanes", reordered, { "idempotency-key": "create-1" });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await again.json()).id).toBe(lane.id);
    expect(await laneCount()).toBe(before + 1);
  });

  it("POST /api/v1/lanes – concurrent retries with one key create one lane", async () => {
    const packet = shellPacket(h.repoId, ["true"]);
    const before = await laneCount();
    const answers = await Promise.all(Array.from({ length: 5 }, () => post("/api/v1/lanes", packet, { "idempotency-key": "burst" })));
    const ids = await Promise.all(answers.map(async (r) => (expect(r.status).toBe(201), (await r.json()).id)));
    expect(new Set(ids).size).toBe(1);
    expect(await laneCount()).toBe(before + 1);
  });

  it("POST /api/v1/lanes – the same key with another body is 409 idempotency_mismatch and creates nothing", async () => {
    expect((await post("/api/v1/lanes", shellPacket(h.repoId, ["true"]), { "idempotency-key": "k-mismatch" })).status).toBe(201);
    const before = await laneCount();
    const res = await post("/api/v1/lanes", shellPacket(h.repoId, ["false"]), { "idempotency-key": "k-mismatch" });
    expect(res.status).toBe(409);
    expect((await res.json()).error.code).toBe("idempotency_mismatch");
    expect(await laneCount()).toBe(before);
  });

  it("POST /api/v1/lanes – a failed call stores nothing: fixed and retried with the same key, it runs", async () => {
    const bad = await post("/api/v1/lanes", shellPacket("no-such-repo", ["true"]), { "idempotency-key": "after-error" });
    expect(bad.status).toBe(404);
    const good = await post("/api/v1/lanes", shellPacket(h.repoId, ["true"]), { "idempotency-key": "after-error" });
    expect(good.status).toBe(201);
  });

  it("POST /api/v1/lanes – without a key every call creates; a malformed key is 422", async () => {
    const packet = shellPacket(h.repoId, ["true"]);
    expect((await post("/api/v1/lanes", packet)).status).toBe(201);
    expect((await post("/api/v1/lanes", packet)).status).toBe(409); // the branch exists now: no dedupe without a key
    const res = await post("/api/v1/lanes", shellPacket(h.repoId, ["true"]), { "idempotency-key": "x".repeat(256) });
    expect(res.status).toBe(422);
    expect((await res.json()).error.message).toContain("Idempotency-Key");
  });

  it("POST /api/v1/lanes – keys are per caller: another token's same key is another call", async () => {
    const packet = shellPacket(h.repoId, ["true"]);
    const [callerA, callerB] = [issueTestToken(h.rt, "caller-a"), issueTestToken(h.rt, "caller-b")];
    const a = await (await post("/api/v1/lanes", packet, { "idempotency-key": "shared", authorization: `Bearer ${callerA}` })).json();
    const b = await post("/api/v1/lanes", packet, { "idempotency-key": "shared", authorization: `Bearer ${callerB}` });
    // Caller b's call really ran: it hit the branch caller a created.
    expect(b.status).toBe(409);
    expect(a.id).toBeTruthy();
  });

  it("POST /api/v1/repos – a retried registration returns the first answer instead of already_exists", async () => {
    const repo = await makeTempDir("laneboard-idem-repo-");
    await initRepo(repo.dir);
    await commitFile(repo.dir, "a.txt", "a\n", "a");
    const first = await post("/api/v1/repos", { path: repo.dir }, { "idempotency-key": "repo-1" });
    const again = await post("/api/v1/repos", { path: repo.dir }, { "idempotency-key": "repo-1" });
    expect([first.status, again.status]).toEqual([201, 201]);
    expect((await again.json()).id).toBe((await first.json()).id);
    await repo.cleanup();
  });
});
