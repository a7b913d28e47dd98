/**
 * Scoped tokens over real HTTP (the route handlers behind the production request guard, a real
 * runtime and git repos): made, used within and beyond their scopes and repos, revoked, expired,
 * kept across a restart, and audited.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BoardResponse, LaneView } from "@/lib/api";
import type { CreatedToken, TokenView } from "@/lib/auth";
import type { LaneEvent } from "@/lib/lane-events";
import type { Page } from "@/lib/paging";
import { startHttpRuntime, type HttpTestRuntime } from "@/app/api/_testing/route-server";
import { AuthService } from "@/server/auth/auth-service";
import { TOKEN_PATTERN, hashSecret, newTokenSecret } from "@/server/auth/secrets";
import { TokenService } from "@/server/auth/token-service";
import { commitFile, initRepo, makeTempDir } from "@/server/git/git.testing";
import { shellPacket } from "@/server/testing/runtime-harness";

let h: HttpTestRuntime;
let otherRepoId: string;
let otherRepo: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  h = await startHttpRuntime();
  otherRepo = await makeTempDir("laneboard-repo-");
  await initRepo(otherRepo.dir);
  await commitFile(otherRepo.dir, "README", "other\n", "init");
  otherRepoId = (await h.rt.repos.register({ path: otherRepo.dir })).id;
});
afterAll(async () => {
  await h?.close();
  await otherRepo?.cleanup();
});

// The answers are checked field by field below; their shapes vary by route and by error.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(h.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
const admin = () => h.rt.auth.adminToken;

async function makeToken(body: Record<string, unknown>): Promise<CreatedToken> {
  const res = await call("POST", "/api/v1/tokens", admin(), body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as CreatedToken;
}

async function eventsOfType(type: string): Promise<LaneEvent[]> {
  return (await h.rt.events.listAfter(0, { types: [type], limit: 5000 })).events;
}

describe("POST /api/v1/tokens", () => {
  it("POST /api/v1/tokens – answers 201 with the secret once; GET lists it without; the store keeps only its hash", async () => {
    const created = await makeToken({ name: "claw-list", scopes: ["read"] });
    expect(created.token).toMatch(TOKEN_PATTERN);
    expect(created).toMatchObject({ name: "claw-list", scopes: ["read"], repos: null, expiresAt: null, createdBy: "admin" });
    const list = await call("GET", "/api/v1/tokens", admin());
    expect(list.status).toBe(200);
    expect((list.body.tokens as TokenView[]).map((t) => t.name)).toContain("claw-list");
    expect(JSON.stringify(list.body)).not.toContain(created.token);
    const row = await h.rt.db.apiToken.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.hash).toBe(hashSecret(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token);
    const [event] = (await eventsOfType("token.created")).filter((e) => e.type === "token.created" && e.payload.tokenId === created.id);
    expect(event).toMatchObject({ by: "admin", payload: { name: "claw-list", scopes: ["read"] } });
    expect(JSON.stringify(event)).not.toContain(created.token);
  });

  it("POST /api/v1/tokens – a name in use is 409, a reserved name or unknown scope 422, an unknown repo 404, a past expiry 422", async () => {
    await makeToken({ name: "claw-dup", scopes: ["read"] });
    expect((await call("POST", "/api/v1/tokens", admin(), { name: "claw-dup", scopes: ["read"] })).status).toBe(409);
    expect((await call("POST", "/api/v1/tokens", admin(), { name: "board", scopes: ["read"] })).body.error.code).toBe("invalid_input");
    expect((await call("POST", "/api/v1/tokens", admin(), { name: "x", scopes: ["root"] })).status).toBe(422);
    expect((await call("POST", "/api/v1/tokens", admin(), { name: "x", scopes: ["read"], repos: ["no-such-repo"] })).status).toBe(404);
    expect((await call("POST", "/api/v1/tokens", admin(), { name: "x", scopes: ["read"], expiresAt: "2001-01-01T00:00:00Z" })).status).toBe(422);
  });
});

describe("scopes", () => {
  it("GET /api/v1/board – a read token reads; POST /api/v1/lanes, /api/v1/tokens and /api/v1/scheduler/caps with it are 403 forbidden and change nothing", async () => {
    const { token } = await makeToken({ name: "reader", scopes: ["read"] });
    expect((await call("GET", "/api/v1/board", token)).status).toBe(200);
    const lanesBefore = (await h.rt.lanes.list({})).length;
    const denied = await call("POST", "/api/v1/lanes", token, shellPacket(h.repoId, ["true"]));
    expect(denied).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect((await call("POST", "/api/v1/tokens", token, { name: "escalated", scopes: ["admin"] })).status).toBe(403);
    expect((await call("GET", "/api/v1/tokens", token)).status).toBe(403);
    expect((await call("PUT", "/api/v1/scheduler/caps", token, { global: 99 })).status).toBe(403);
    expect((await h.rt.lanes.list({})).length).toBe(lanesBefore);
    expect(await h.rt.db.apiToken.findFirst({ where: { name: "escalated" } })).toBeNull();
  });

  it("POST /api/v1/lanes – a control token creates a lane, and its events record the token's name as `by`; admin routes stay 403", async () => {
    const { token } = await makeToken({ name: "claw-ctl", scopes: ["control"] });
    const res = await call("POST", "/api/v1/lanes", token, shellPacket(h.repoId, ["true"]));
    expect(res.status).toBe(201);
    const events = (await h.rt.events.listAfter(0, { laneId: (res.body as LaneView).id, limit: 100 })).events;
    expect(events.find((e) => e.type === "lane.created")?.by).toBe("claw-ctl");
    expect((await call("POST", "/api/v1/repos", token, { path: otherRepo.dir })).status).toBe(403);
    expect((await call("DELETE", "/api/v1/tokens/whatever", token)).status).toBe(403);
  });
});

describe("tokens limited to repos", () => {
  it("GET /api/v1/lanes/:id – a token limited to one repo reads its lanes, gets 403 for another repo's, and sees only its repo on the board", async () => {
    const mine = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    const theirs = await h.rt.lanes.create(shellPacket(otherRepoId, ["true"]));
    const { token } = await makeToken({ name: "repo-a-reader", scopes: ["control"], repos: [h.repoId] });
    expect((await call("GET", `/api/v1/lanes/${mine.id}`, token)).status).toBe(200);
    expect((await call("GET", `/api/v1/lanes/${theirs.id}`, token)).body.error.code).toBe("forbidden");
    expect((await call("GET", `/api/v1/lanes/${theirs.id}/logs`, token)).status).toBe(403);
    expect((await call("POST", `/api/v1/lanes/${theirs.id}/kill`, token, {})).status).toBe(403);
    const board = (await call("GET", "/api/v1/board", token)).body as BoardResponse;
    expect(board.repos.map((r) => r.id)).toEqual([h.repoId]);
    expect(board.lanes.every((l) => l.repoId === h.repoId)).toBe(true);
    expect(board.lanes.some((l) => l.id === mine.id)).toBe(true);
    const lanes = ((await call("GET", "/api/v1/lanes", token)).body as Page<LaneView>).items;
    expect(lanes.map((l) => l.id)).toContain(mine.id);
    expect(lanes.every((l) => l.repoId === h.repoId)).toBe(true);
    expect((await call("GET", `/api/v1/lanes?repoId=${otherRepoId}`, token)).status).toBe(403);
    const events = (await call("GET", "/api/v1/events?after=0&limit=5000", token)).body as { events: LaneEvent[] };
    expect(events.events.length).toBeGreaterThan(0);
    expect(events.events.every((e) => e.repoId === h.repoId)).toBe(true);
    expect((await call("GET", `/api/v1/events?repoId=${otherRepoId}`, token)).status).toBe(403);
  });

  it("POST /api/v1/lanes – a repo-limited token cannot start a lane in another repo, nor reach server-wide settings", async () => {
    const { token } = await makeToken({ name: "repo-a-admin", scopes: ["admin"], repos: [h.repoPath] });
    const before = (await h.rt.lanes.list({ repoId: otherRepoId })).length;
    expect((await call("POST", "/api/v1/lanes", token, shellPacket(otherRepoId, ["true"]))).status).toBe(403);
    expect((await h.rt.lanes.list({ repoId: otherRepoId })).length).toBe(before);
    expect((await call("GET", "/api/v1/scheduler/caps", token)).status).toBe(403);
    expect((await call("POST", "/api/v1/tokens", token, { name: "wider", scopes: ["admin"] })).status).toBe(403);
    expect((await call("GET", `/api/v1/repos/${otherRepoId}/policy`, token)).status).toBe(403);
    expect((await call("GET", `/api/v1/repos/${h.repoId}/policy`, token)).status).toBe(200);
  });
});

describe("DELETE /api/v1/tokens/:id", () => {
  it("DELETE /api/v1/tokens/:id – the token is refused (401) at once, the revocation is an event, a second delete is 404", async () => {
    const created = await makeToken({ name: "short-lived", scopes: ["read"] });
    expect((await call("GET", "/api/v1/board", created.token)).status).toBe(200);
    expect((await call("DELETE", `/api/v1/tokens/${created.id}`, admin())).status).toBe(200);
    expect((await call("GET", "/api/v1/board", created.token)).body.error.code).toBe("unauthorized");
    const revoked = (await eventsOfType("token.revoked")).find((e) => e.type === "token.revoked" && e.payload.tokenId === created.id);
    expect(revoked).toMatchObject({ by: "admin", payload: { name: "short-lived" } });
    expect((await call("DELETE", `/api/v1/tokens/${created.id}`, admin())).status).toBe(404);
    expect((await call("GET", "/api/v1/tokens", admin())).body.tokens.map((t: TokenView) => t.id)).not.toContain(created.id);
  });
});

describe("expiry and restarts", () => {
  it("GET /api/v1/board – an expired token is 401", async () => {
    const secret = newTokenSecret();
    h.rt.auth.addToken({ id: "expired-1", name: "expired", hash: hashSecret(secret), scopes: ["admin"], repos: null, expiresAt: new Date(Date.now() - 1000) });
    expect(await call("GET", "/api/v1/board", secret)).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
  });

  it("loads stored tokens at start: a token made before a restart still works after it; one that expired meanwhile does not", async () => {
    const kept = await makeToken({ name: "kept", scopes: ["read"] });
    const lapsing = await makeToken({ name: "lapsing", scopes: ["read"], expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const fresh = new AuthService(h.rt.auth.adminToken);
    const service = new TokenService({ db: h.rt.db, auth: fresh, events: h.rt.events, repos: h.rt.repos });
    await service.load();
    expect(fresh.authenticate({ authorization: `Bearer ${kept.token}` })).toMatchObject({ ok: true, caller: { by: "kept", scopes: ["read"] } });
    expect(fresh.authenticate({ authorization: `Bearer ${lapsing.token}` }).ok).toBe(true);
    expect(fresh.authenticate({ authorization: `Bearer ${lapsing.token}` }, Date.now() + 120_000).ok).toBe(false);
  });
});
