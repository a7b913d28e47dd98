/**
 * Attack: a web page the user visits drives Laneboard through the browser. A page can send
 * "simple" cross-site requests without a CORS preflight (`text/plain`,
 * `application/x-www-form-urlencoded`, `multipart/form-data`), and the browser attaches the
 * board's session cookie when SameSite does not stop it (an old browser, a same-site sibling).
 * Every state-changing route of the served OpenAPI document (so a new route is covered without
 * touching this file) gets each variant, with the admin's session cookie, against real ids (a
 * running lane, its process, the repo, a token, a webhook); each must be refused with the API's
 * error shape, and the server's state must be as before (no lane, no event, no command run).
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError, operations, send, startSecurityServer, type Answer, type SecurityServer } from "./harness";

let s: SecurityServer;
/** Every state-changing operation of the OpenAPI document, as `METHOD /path/with/real/ids`. */
let routes: Array<{ method: string; path: string }>;
let before: string;

beforeAll(async () => {
  s = await startSecurityServer();
  const victim = await s.api("/api/v1/tokens", { method: "POST", body: JSON.stringify({ name: "victim", scopes: ["read"] }) });
  const hook = await s.api(`/api/v1/repos/${s.repoId}/webhooks`, { method: "POST", body: JSON.stringify({ url: "http://127.0.0.1:9/hook", events: ["lane.merged"] }) });
  expect([victim.status, hook.status], victim.text + hook.text).toEqual([201, 201]);
  const ids = {
    lanes: s.laneId,
    processes: s.processId,
    repos: s.repoId,
    tokens: (victim.json as { id: string }).id,
    webhooks: (hook.json as { id: string }).id,
  };
  routes = (await operations(s, ids)).filter((o) => !["GET", "HEAD", "OPTIONS"].includes(o.method)).map(({ method, path }) => ({ method, path }));
  before = await s.fingerprint();
});
afterAll(() => s?.stop());

const FOREIGN = "https://evil.example";

interface Variant {
  name: string;
  status: number;
  code: string;
  /** Headers and body of the attack request, given the route. */
  request(s: SecurityServer): RequestInit;
}

const text = (s: SecurityServer) => JSON.stringify(s.attackPacket());
const form = (s: SecurityServer) => {
  const f = new FormData();
  f.set("packet", text(s));
  return f;
};
const VARIANTS: Variant[] = [
  { name: "text/plain without Origin", status: 415, code: "unsupported_media_type", request: (s) => ({ headers: { cookie: s.cookie, "content-type": "text/plain" }, body: text(s) }) },
  { name: "text/plain from a foreign Origin", status: 403, code: "forbidden", request: (s) => ({ headers: { cookie: s.cookie, "content-type": "text/plain", origin: FOREIGN }, body: text(s) }) },
  {
    name: "form-urlencoded without Origin",
    status: 415,
    code: "unsupported_media_type",
    request: (s) => ({ headers: { cookie: s.cookie, "content-type": "application/x-www-form-urlencoded" }, body: `packet=${encodeURIComponent(text(s))}` }),
  },
  {
    name: "form-urlencoded from a foreign Origin",
    status: 403,
    code: "forbidden",
    request: (s) => ({ headers: { cookie: s.cookie, "content-type": "application/x-www-form-urlencoded", origin: FOREIGN }, body: `packet=${encodeURIComponent(text(s))}` }),
  },
  { name: "multipart/form-data without Origin", status: 415, code: "unsupported_media_type", request: (s) => ({ headers: { cookie: s.cookie }, body: form(s) }) },
  { name: "multipart/form-data from Origin: null (sandboxed frame)", status: 403, code: "forbidden", request: (s) => ({ headers: { cookie: s.cookie, origin: "null" }, body: form(s) }) },
  {
    name: "JSON with Sec-Fetch-Site: cross-site and no Origin",
    status: 403,
    code: "forbidden",
    request: (s) => ({ headers: { cookie: s.cookie, "content-type": "application/json", "sec-fetch-site": "cross-site" }, body: text(s) }),
  },
  {
    name: "JSON from another web app on this machine (another port)",
    status: 403,
    code: "forbidden",
    request: (s) => ({ headers: { cookie: s.cookie, "content-type": "application/json", origin: "http://127.0.0.1:1" }, body: text(s) }),
  },
  {
    name: "JSON with a valid bearer token from a foreign Origin",
    status: 403,
    code: "forbidden",
    request: (s) => ({ headers: { authorization: `Bearer ${s.token}`, "content-type": "application/json", origin: FOREIGN }, body: text(s) }),
  },
  { name: "text/plain without any credentials", status: 401, code: "unauthorized", request: (s) => ({ headers: { "content-type": "text/plain" }, body: text(s) }) },
];

describe("cross-site requests on every state-changing route", () => {
  it("the OpenAPI document lists the state-changing routes, POST /api/v1/lanes among them", () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
    expect(routes).toContainEqual({ method: "POST", path: "/api/v1/lanes" });
    expect(routes).toContainEqual({ method: "DELETE", path: expect.stringMatching(/^\/api\/v1\/tokens\/[\w-]+$/) });
  });

  for (const v of VARIANTS) {
    it(`${v.name} → ${v.status} ${v.code} on every route, and nothing changes`, async () => {
      const answers: Array<[string, Answer]> = [];
      for (const r of routes) answers.push([`${r.method} ${r.path}`, await send(s.base + r.path, { method: r.method, ...v.request(s) })]);
      for (const [label, answer] of answers) expectError(answer, v.status, v.code, label);
      for (const [, answer] of answers) expect(answer.headers.get("access-control-allow-origin")).toBeNull();
      expect(await s.fingerprint()).toBe(before);
    });
  }

  it("POST /mcp (MCP tools create lanes too) – every variant is refused: the MCP endpoint takes only a bearer token, never the session cookie", async () => {
    const mcpCall = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "create_lane", arguments: s.attackPacket("attack/mcp") } });
    for (const v of VARIANTS) {
      const init = v.request(s);
      const answer = await send(`${s.base}/mcp`, { method: "POST", ...init, body: typeof init.body === "string" ? mcpCall : init.body });
      // The cookie passes the page guard, but /mcp itself wants a bearer: 401 there instead of 415.
      const status = v.status === 415 ? 401 : v.status;
      expectError(answer, status, status === 401 ? "unauthorized" : v.code, v.name);
    }
    expect(await s.fingerprint()).toBe(before);
  });

  it("after every attack: no command ran, the target lane still runs, and a legit client is served (its command does run)", async () => {
    expect(existsSync(s.marker)).toBe(false);
    expect(((await s.api(`/api/v1/lanes/${s.laneId}`)).json as { state: string }).state).toBe("running");
    const created = await s.api("/api/v1/lanes", { method: "POST", body: JSON.stringify(s.attackPacket("legit/after-attacks")) });
    expect(created.status, created.text).toBe(201);
    const id = (created.json as { id: string }).id;
    const done = await s.api(`/api/v1/lanes/${id}/await?state=finished&timeoutMs=60000`);
    expect((done.json as { outcome: string }).outcome, done.text).toBe("reached");
    // The marker is made only by a command that ran: the same packet did nothing when sent cross-site.
    expect(existsSync(s.marker)).toBe(true);
  });
});
