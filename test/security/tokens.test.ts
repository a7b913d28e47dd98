/**
 * Attack: a token used beyond what it grants, or after it stopped being valid, or presented where
 * tokens are not read. Scope escalation runs over every operation of the served OpenAPI document
 * by its `x-scope`; repo-limited tokens try another repo's lane over HTTP and Socket.IO; revoked
 * and expired tokens lose their HTTP access, their board sessions and their open sockets.
 */
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "@/lib/auth";
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from "@/lib/socket-events";
import { commitFile, initRepo, makeTempDir } from "@/server/git/git.testing";
import { expectError, operations, send, startSecurityServer, type Operation, type SecurityServer } from "./harness";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

let s: SecurityServer;
let ops: Operation[];
let other: { dir: string; cleanup: () => Promise<void> };
let otherRepoId: string;
let before: string;

/** Make a token through the API as the admin. */
async function token(body: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const a = await s.api("/api/v1/tokens", { method: "POST", body: JSON.stringify(body) });
  expect(a.status, a.text).toBe(201);
  return a.json as { id: string; token: string };
}

/** Call the API with `secret` as the bearer; a JSON body for every state-changing call. */
function as(secret: string, op: Pick<Operation, "method" | "path">) {
  const write = !["GET", "HEAD", "OPTIONS"].includes(op.method);
  return send(s.base + op.path, {
    method: op.method,
    headers: { authorization: `Bearer ${secret}`, ...(write ? { "content-type": "application/json" } : {}) },
    body: write ? JSON.stringify(s.attackPacket()) : undefined,
  });
}

async function connected(auth: { token: string }): Promise<Client> {
  const c: Client = connect(s.base, { transports: ["websocket"], reconnection: false, forceNew: true, auth });
  await new Promise<void>((resolve, reject) => {
    c.once("connect", resolve);
    c.once("connect_error", reject);
  });
  return c;
}

const disconnected = (c: Client) => new Promise<string>((resolve) => c.once("disconnect", (reason) => resolve(reason)));

beforeAll(async () => {
  s = await startSecurityServer();
  other = await makeTempDir("laneboard-sec-other-");
  await initRepo(other.dir);
  await commitFile(other.dir, "README.md", "other\n", "init");
  const reg = await s.api("/api/v1/repos", { method: "POST", body: JSON.stringify({ path: other.dir }) });
  otherRepoId = (reg.json as { id: string }).id;
  const victim = await token({ name: "victim", scopes: ["read"] });
  const hook = await s.api(`/api/v1/repos/${s.repoId}/webhooks`, { method: "POST", body: JSON.stringify({ url: "http://127.0.0.1:9/hook", events: ["lane.merged"] }) });
  ops = await operations(s, { lanes: s.laneId, processes: s.processId, repos: s.repoId, tokens: victim.id, webhooks: (hook.json as { id: string }).id });
});
afterAll(async () => {
  await s?.stop();
  await other?.cleanup();
});

describe("scope escalation", () => {
  it("a read token: every control and admin operation is 403 forbidden, and nothing changes", async () => {
    const read = await token({ name: "reader", scopes: ["read"] });
    before = await s.fingerprint();
    const targets = ops.filter((o) => o.scope === "control" || o.scope === "admin");
    expect(targets.length).toBeGreaterThanOrEqual(15);
    for (const op of targets) expectError(await as(read.token, op), 403, "forbidden", `${op.method} ${op.path}`);
    expect(await s.fingerprint()).toBe(before);
  });

  it("a control token: every admin operation (repos, tokens, caps, budgets, policy) is 403 forbidden, and nothing changes", async () => {
    const control = await token({ name: "controller", scopes: ["control"] });
    before = await s.fingerprint();
    const targets = ops.filter((o) => o.scope === "admin");
    expect(targets.map((o) => `${o.method} ${o.path}`)).toEqual(expect.arrayContaining(["POST /api/v1/tokens", "POST /api/v1/repos"]));
    for (const op of targets) expectError(await as(control.token, op), 403, "forbidden", `${op.method} ${op.path}`);
    // Nor can it mint itself a better token.
    const mint = await send(`${s.base}/api/v1/tokens`, { method: "POST", headers: { authorization: `Bearer ${control.token}`, "content-type": "application/json" }, body: JSON.stringify({ name: "escalated", scopes: ["admin"] }) });
    expectError(mint, 403, "forbidden");
    expect(await s.fingerprint()).toBe(before);
  });

  it("an admin token limited to another repo: the target repo's lane, process, policy and events are 403; server-wide settings and tokens too", async () => {
    const limited = await token({ name: "other-repo-admin", scopes: ["admin"], repos: [otherRepoId] });
    before = await s.fingerprint();
    const mine = (path: string, method = "GET") => ({ method, path });
    for (const op of [
      mine(`/api/v1/lanes/${s.laneId}`),
      mine(`/api/v1/lanes/${s.laneId}/logs`),
      mine(`/api/v1/processes/${s.processId}/logs`),
      mine(`/api/v1/lanes/${s.laneId}/kill`, "POST"),
      mine(`/api/v1/repos/${s.repoId}/policy`),
      mine(`/api/v1/repos/${s.repoId}/policy`, "DELETE"),
      mine(`/api/v1/events?repoId=${s.repoId}`),
      mine("/api/v1/tokens", "POST"),
      mine("/api/v1/scheduler/caps", "PUT"),
    ]) {
      expectError(await as(limited.token, op), 403, "forbidden", `${op.method} ${op.path}`);
    }
    // Its admin scope covers creating lanes, but not in a repo it is not limited to.
    const create = await as(limited.token, mine("/api/v1/lanes", "POST"));
    expectError(create, 403, "forbidden");
    // Lists are narrowed to its repo: the target lane is not in them.
    const lanes = await as(limited.token, mine("/api/v1/lanes"));
    expect(lanes.status).toBe(200);
    expect(lanes.text).not.toContain(s.laneId);
    expect((await as(limited.token, mine("/api/v1/board"))).text).not.toContain(s.laneId);
    expect(await s.fingerprint()).toBe(before);
  });

  it("a repo-limited token's socket may not subscribe to another repo's lane output", async () => {
    const limited = await token({ name: "other-repo-reader", scopes: ["read"], repos: [otherRepoId] });
    const c = await connected({ token: limited.token });
    const ack = await new Promise<SubscribeAck>((resolve) => c.emit("lane:subscribe", { laneId: s.laneId, tail: 10 }, resolve));
    expect(ack).toEqual({ ok: false, error: { code: "forbidden", message: expect.stringMatching(/\S/) } });
    c.close();
  });
});

describe("revoked, expired and misplaced tokens", () => {
  it("a revoked token: its API calls, its board session and its open socket all end at once", async () => {
    const t = await token({ name: "revoked", scopes: ["control"] });
    const entry = await send(`${s.base}/?token=${t.token}`);
    const cookie = /^[^;]+/.exec(entry.headers.get("set-cookie") ?? "")?.[0] ?? "";
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    const socket = await connected({ token: t.token });
    const closed = disconnected(socket);
    expect((await as(t.token, { method: "GET", path: "/api/v1/board" })).status).toBe(200);
    expect((await s.api(`/api/v1/tokens/${t.id}`, { method: "DELETE" })).status).toBe(200);
    expect(await closed).toBe("io server disconnect");
    before = await s.fingerprint();
    expectError(await as(t.token, { method: "GET", path: "/api/v1/board" }), 401, "unauthorized");
    expectError(await as(t.token, { method: "POST", path: "/api/v1/lanes" }), 401, "unauthorized");
    expectError(await send(`${s.base}/api/v1/board`, { headers: { cookie } }), 401, "unauthorized");
    await expect(connected({ token: t.token })).rejects.toThrow("unauthorized");
    expect(await s.fingerprint()).toBe(before);
  });

  it("an expired token: its open socket is closed when it expires, then its calls and its token URL are 401", async () => {
    const expiresAt = new Date(Date.now() + 2000).toISOString();
    const t = await token({ name: "expiring", scopes: ["control"], expiresAt });
    const socket = await connected({ token: t.token });
    expect((await as(t.token, { method: "GET", path: "/api/v1/board" })).status).toBe(200);
    expect(await disconnected(socket)).toBe("io server disconnect");
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    before = await s.fingerprint();
    expectError(await as(t.token, { method: "GET", path: "/api/v1/board" }), 401, "unauthorized");
    expectError(await as(t.token, { method: "POST", path: "/api/v1/lanes" }), 401, "unauthorized");
    const entry = await send(`${s.base}/?token=${t.token}`, { headers: { accept: "application/json" } });
    expectError(entry, 401, "unauthorized");
    expect(entry.headers.get("set-cookie")).toBeNull();
    expect(await s.fingerprint()).toBe(before);
  });

  it("GET and POST /api/v1/… with the token in the query string → 401, even alongside a valid bearer; nothing changes", async () => {
    before = await s.fingerprint();
    for (const q of [`token=${s.token}`, `access_token=${s.token}`]) {
      expectError(await send(`${s.base}/api/v1/board?${q}`), 401, "unauthorized", q);
      expectError(await send(`${s.base}/api/v1/lanes?${q}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(s.attackPacket()) }), 401, "unauthorized", q);
      expectError(await s.api(`/api/v1/board?${q}`), 401, "unauthorized", `${q} with bearer`);
    }
    expect(await s.fingerprint()).toBe(before);
  });

  it("the admin token in a header it is not read from, a malformed Authorization, a wrong or forged secret → 401", async () => {
    before = await s.fingerprint();
    const wrong: Record<string, string>[] = [
      { "x-api-key": s.token },
      { "x-laneboard-token": s.token },
      { authorization: `Token ${s.token}` },
      { authorization: `Basic ${Buffer.from(`admin:${s.token}`).toString("base64")}` },
      { authorization: "Bearer" },
      { authorization: `Bearer ${s.token}x` },
      { authorization: `Bearer ${s.token} ${s.token}` },
      { cookie: `${SESSION_COOKIE}=${s.token}` },
      { cookie: `${SESSION_COOKIE}=admin.${"0".repeat(64)}` },
      // A bad Authorization is not rescued by a good session cookie.
      { authorization: "Bearer wrong", cookie: s.cookie },
    ];
    for (const headers of wrong) {
      expectError(await send(`${s.base}/api/v1/board`, { headers }), 401, "unauthorized", JSON.stringify(Object.keys(headers)));
      expectError(await send(`${s.base}/api/v1/lanes`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(s.attackPacket()) }), 401, "unauthorized");
    }
    expect(await s.fingerprint()).toBe(before);
  });

  it("afterwards the admin is served as before", async () => {
    expect((await s.api("/api/v1/board")).status).toBe(200);
    expect((await send(`${s.base}/api/v1/board`, { headers: { cookie: s.cookie } })).status).toBe(200);
  });
});
