/**
 * No 500 for any request a client can send, against a real server process: a bounded, seeded
 * fuzz of 2,000 requests (after 2,000 of warm-up) over every `/api/v1` route (found in app/api at
 * run time, so a new route is fuzzed too) and every method, with malformed ids and
 * percent-encodings, query strings, content types, bodies and credentials (mostly the admin
 * token, so requests reach the routes). Any 500 fails (it names the request and the request id
 * the answer carries); every error is JSON `{ error: { code, message } }`; the server's RSS after
 * the run is within 20 % of before. Plus the answers Next.js itself would give: an unknown API
 * route is a JSON 404, a wrong method a JSON 405.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, sigkill, startServer, test, type OwnServer } from "./support";
import { mulberry32 } from "@/lib/seeded-random";

const PORT = Number(process.env.LANEBOARD_E2E_PORT ?? 3917) + 3;
const base = `http://127.0.0.1:${PORT}`;
const REQUESTS = 2000;
/**
 * Requests of the same seeded mix sent before RSS is first read. With the target lane in place the
 * mix reaches every route, and the server's RSS climbs while V8 sizes its heap and Next loads the
 * routes' bundles, then levels off (one run, load 10: 239 MB after 300, 301 after 2,300, 338
 * after 4,300, 380 after 6,300 and 380 after 8,300); a leak keeps climbing past the warm-up.
 */
const WARM_UP = 2000;
const SEED = 0x17f00d;

/** Route templates from the file tree: `app/api/v1/lanes/[id]/kill/route.ts` → `/api/v1/lanes/[id]/kill`. */
function routeTemplates(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else if (e.name === "route.ts") out.push("/" + path.relative("app", dir).split(path.sep).join("/"));
    }
  };
  walk(path.join("app", "api", "v1"));
  return out.sort();
}

function rssKiB(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
}

let server: OwnServer | null = null;
let dataDir = "";
let repo = "";
test.afterEach(async () => {
  if (server) await sigkill(server.child);
  server = null;
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(repo, { recursive: true, force: true });
});

test.beforeEach(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "laneboard-fuzz-"));
  repo = fs.mkdtempSync(path.join(os.tmpdir(), "laneboard-fuzz-repo-"));
  execFileSync("git", ["init", "-q", "--initial-branch=main", repo]);
  execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "--allow-empty", "-m", "init"]);
  server = await startServer(PORT, dataDir, ["--kill-grace-ms", "200", "--kill-on-exit"]);
});

test("unknown /api/v1 routes answer a JSON 404, wrong methods a JSON 405, and every answer carries a request id", async () => {
  const headers = { authorization: `Bearer ${server!.token}` };
  const unknown = await fetch(`${base}/api/v1/no-such-route`, { headers });
  expect(unknown.status).toBe(404);
  expect(unknown.headers.get("content-type")).toContain("application/json");
  expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("not_found");
  const wrong = await fetch(`${base}/api/v1/board`, { method: "DELETE", headers });
  expect(wrong.status).toBe(405);
  expect(((await wrong.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "method_not_allowed", message: "DELETE is not allowed on /api/v1/board" });
  expect(wrong.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  // A lane id that is a malformed percent-encoding, or far too long, never reaches the store.
  for (const [url, status] of [["/api/v1/lanes/%ZZ/summary", 400], ["/api/v1/processes/%E0%A4%A", 400], [`/api/v1/lanes/${"x".repeat(5000)}`, 404]] as const) {
    const res = await fetch(base + url, { headers });
    expect(res.status, url).toBe(status);
    expect(((await res.json()) as { error: { code: string } }).error.code.length).toBeGreaterThan(0);
  }
  // A client's own request id is kept when it is sane, replaced when not.
  expect((await fetch(`${base}/api/v1/board`, { headers: { ...headers, "x-request-id": "claw-42" } })).headers.get("x-request-id")).toBe("claw-42");
});

test("fuzz: 2,000 seeded requests over every route and method give no 500, only JSON errors, and RSS stays within 20 %", async () => {
  test.setTimeout(600_000);
  const admin = `Bearer ${server!.token}`;
  const { id: repoId } = (await (await fetch(`${base}/api/v1/repos`, { method: "POST", headers: { authorization: admin, "content-type": "application/json" }, body: JSON.stringify({ path: repo }) })).json()) as { id: string };
  const lane = (await (await fetch(`${base}/api/v1/lanes`, {
    method: "POST",
    headers: { authorization: admin, "content-type": "application/json" },
    body: JSON.stringify({ objective: "fuzz target", repo: repoId, branch: "lane/fuzz", worker: { engine: "shell", command: ["sh", "-c", "echo hi; sleep 30"] } }),
  })).json()) as { id: string; currentProcessId: string | null };
  expect(lane.id, "the fuzz target lane was made").toEqual(expect.any(String));
  const rand = mulberry32(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const templates = routeTemplates();
  const ids = [lane.id, lane.currentProcessId ?? lane.id, repoId, "nope", "%ZZ", "%E0%A4%A", "%00", "..", "%2e%2e", "x".repeat(300), "y".repeat(5000), "ünï", "1e309", "-1", "%F0%9F%92%A9"];
  const queries = ["", "?limit=-1", "?limit=abc", "?limit=1e309", "?after=NaN", "?from=-5&to=abc", "?stream=nope", "?fromLine=99999999999", "?a=%ZZ", "?timeoutMs=1", "?laneId=&repoId=%00", `?q=${"z".repeat(3000)}`, "?limit=5"];
  const bodies: (string | undefined)[] = [undefined, "", "{", "null", "[]", "1e309", '"text"', "{}", JSON.stringify({ objective: 7 }), JSON.stringify({ graceMs: -1 }), JSON.stringify({ data: "x".repeat(10_000) }), JSON.stringify({ a: { b: { c: [1, null, true] } } }), "\u0000\u0001", JSON.stringify({ requestsPerMinute: 1e-12 }), JSON.stringify({ shell: { requestsPerMinute: 1e-12 } }), JSON.stringify({ path: "/" + "p".repeat(300) })];
  const types = ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/json; charset=latin1"];
  const methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];
  // Mostly the admin token, so requests reach the routes; the rest try the guard in front of them.
  const credentials: (string | undefined)[] = [admin, admin, admin, admin, admin, admin, undefined, "Bearer nope", `Bearer ${"t".repeat(5000)}`, "Basic Zm9vOmJhcg==", "Bearer"];

  const send = async (url: string, method: string, body: string | undefined, type: string, authorization: string | undefined) => {
    const res = await fetch(base + url, {
      method,
      body: method === "GET" || method === "HEAD" ? undefined : body,
      headers: { ...(type ? { "content-type": type } : {}), ...(authorization ? { authorization } : {}) },
      signal: AbortSignal.timeout(5000),
    }).catch((err: Error) => (err.name === "TimeoutError" ? null : Promise.reject(err)));
    if (!res) return { status: 0, text: "", id: null };
    // Streams (server-sent events) stay open: their status is the answer.
    const streaming = res.headers.get("content-type")?.includes("text/event-stream") ?? false;
    const text = streaming ? (await res.body?.cancel(), "") : await res.text().catch(() => "");
    return { status: res.status, text, id: res.headers.get("x-request-id"), type: res.headers.get("content-type") ?? "" };
  };

  const failures: string[] = [];
  const nonJson: string[] = [];
  const unanswered: string[] = [];
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const url = pick(templates).replace(/\[[^\]]+\]/g, () => pick(ids)) + pick(queries);
      const method = pick(methods);
      const body = pick(bodies);
      const type = pick(types);
      const authorization = pick(credentials);
      const res = await send(url, method, body, type, authorization);
      const who = authorization === admin ? "admin" : authorization === undefined ? "no token" : JSON.stringify(authorization.slice(0, 12));
      const what = `#${i} ${method} ${url.slice(0, 120)} (${who}, ${type || "no type"}, body ${body === undefined ? "none" : JSON.stringify(body.slice(0, 40))})`;
      if (res.status === 0) unanswered.push(what);
      if (res.status >= 500 && res.status !== 503) failures.push(`${what} → ${res.status} request ${res.id}: ${res.text.slice(0, 200)}`);
      if (res.status >= 400 && method !== "HEAD" && !/^\{"error":\{"code":"[a-z_]+","message":/.test(res.text)) nonJson.push(`${what} → ${res.status}: ${res.text.slice(0, 80)}`);
    }
  };
  // Warm up with the same mix (Next loads each route's bundle, V8 compiles, pools fill on first use), then measure.
  await run(WARM_UP);
  const rssBefore = rssKiB(server!.child.pid!);
  await run(REQUESTS);
  const rssAfter = rssKiB(server!.child.pid!);
  console.log(`[fuzz] ${WARM_UP} + ${REQUESTS} requests, seed ${SEED}: RSS ${rssBefore} → ${rssAfter} KiB; ${unanswered.length} unanswered within 5 s`);
  expect(failures).toEqual([]);
  expect(nonJson).toEqual([]);
  expect(rssAfter).toBeLessThanOrEqual(rssBefore * 1.2);
});
