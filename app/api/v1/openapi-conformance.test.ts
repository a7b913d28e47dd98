/**
 * The OpenAPI document against what the routes really answer: a real runtime served over HTTP
 * (app/api/_testing/route-server.ts, behind the production request guard), a real repo with
 * lanes that ran; every documented GET operation is called with real ids, and each 2xx body is
 * validated with Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1) against the schema the
 * served document gives for that operation and status; so are the main POSTs and error answers.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpRuntime, type HttpTestRuntime } from "../_testing/route-server";
import { routeDocs } from "../_lib/openapi-routes";
import { issueTestToken } from "@/server/testing/auth";
import { isTerminal, shellPacket, waitForLane } from "@/server/testing/runtime-harness";
import type { LaneView } from "@/lib/api";

type Doc = { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };

let h: HttpTestRuntime;
let doc: Doc;
let ajv: Ajv2020;
let done: LaneView;
let webhookId: string;
const called = new Set<string>();

/** JSON Pointer escaping (RFC 6901). */
const esc = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * Validate `body` against the document's schema for (method, path, status).
 * @returns Ajv's error text, or null when it conforms; throws when the status is not documented.
 */
function mismatch(method: string, path: string, status: number, body: unknown): string | null {
  const op = doc.paths[path]?.[method];
  if (!op?.responses[String(status)]) throw new Error(`${method} ${path} answered ${status}, which it does not document`);
  const validate = ajv.getSchema(`openapi.json#/paths/${esc(path)}/${method}/responses/${status}/content/application~1json/schema`);
  if (!validate) throw new Error(`${method} ${path} ${status} has no JSON schema`);
  return validate(body) ? null : ajv.errorsText(validate.errors, { dataVar: "body" });
}

/** Call an operation over HTTP and check its answer against the document; returns status and body. */
async function call(method: string, path: string, opts: { params?: Record<string, string>; query?: string; body?: unknown; token?: string | null } = {}) {
  const url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(opts.params?.[name] ?? ""));
  const headers: Record<string, string> = opts.token === null ? {} : { authorization: `Bearer ${opts.token ?? h.rt.auth.adminToken}` };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${h.url}${url}${opts.query ? `?${opts.query}` : ""}`, {
    method: method.toUpperCase(),
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
  });
  const type = res.headers.get("content-type") ?? "";
  if (!type.includes("application/json")) {
    await res.body?.cancel();
    return { status: res.status, type, body: undefined as unknown };
  }
  const body: unknown = await res.json();
  const problem = mismatch(method, path, res.status, body);
  expect(problem, `${method.toUpperCase()} ${url} → ${res.status}`).toBeNull();
  if (res.status < 300) called.add(`${method} ${path}`);
  return { status: res.status, type, body };
}

beforeAll(async () => {
  h = await startHttpRuntime();
  const res = await fetch(`${h.url}/api/v1/openapi.json`, { headers: h.headers });
  expect(res.status).toBe(200);
  doc = (await res.json()) as Doc;
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(doc as object, "openapi.json");
  // A lane that commits a file and finishes, so diff, checks, attempts and processes have something.
  const argv = ["sh", "-c", "echo hello > hello.txt && git add hello.txt && git -c user.name=t -c user.email=t@example.com commit -qm hello && echo done"];
  const created = await call("post", "/api/v1/lanes", { body: shellPacket(h.repoId, argv) });
  expect(created.status).toBe(201);
  done = await waitForLane(h.rt, (created.body as LaneView).id, isTerminal);
  expect(done.state).toBe("finished");
  const hook = await call("post", "/api/v1/repos/{id}/webhooks", { params: { id: h.repoId }, body: { url: "http://127.0.0.1:9/hook" } });
  expect(hook.status).toBe(201);
  webhookId = (hook.body as { id: string }).id;
}, 300_000);
afterAll(async () => {
  await h?.close();
});

describe("the conformance check itself", () => {
  it("rejects a body that does not match the documented schema", () => {
    expect(mismatch("get", "/api/v1/lanes/{id}", 200, { id: 1 })).toMatch(/must have required property|must be string/);
    expect(mismatch("get", "/api/v1/lanes/{id}", 404, { error: { message: "no code" } })).toMatch(/code/);
    expect(() => mismatch("get", "/api/v1/lanes/{id}", 418, {})).toThrow(/does not document/);
  });
});

describe("every documented GET answers what the document says", () => {
  it("GET each operation with real ids validates against its response schema", async () => {
    const processId = done.currentProcessId!;
    const ids: Record<string, Record<string, string>> = {
      lanes: { id: done.id },
      processes: { id: processId },
      repos: { id: h.repoId, webhookId },
    };
    const queries: Record<string, string> = {
      "/api/v1/lanes/{id}/diff/file": "path=hello.txt",
      "/api/v1/lanes/{id}/worker/ready": "timeoutMs=0",
      "/api/v1/lanes/{id}/await": "state=finished&timeoutMs=0",
      "/api/v1/events/stream": "after=0",
      "/api/v1/processes/{id}/logs/stream": "from=0",
    };
    const gets = routeDocs().filter((op) => op.method === "get");
    for (const op of gets) {
      const group = op.path.split("/")[3]!;
      const res = await call("get", op.path, { params: ids[group], query: queries[op.path] });
      expect(res.status, `GET ${op.path}`).toBe(op.status ?? 200);
      if (op.stream) {
        expect(res.type, `GET ${op.path}`).toContain(op.stream);
        called.add(`get ${op.path}`);
      }
    }
    expect([...called].filter((c) => c.startsWith("get ")).sort()).toEqual(gets.map((op) => `get ${op.path}`).sort());
    // Newest first is a second shape of the same operation.
    await call("get", "/api/v1/events", { query: "order=desc&limit=2" });
    await call("get", "/api/v1/processes/{id}/logs", { params: { id: processId }, query: "fromLine=0&limit=5" });
  }, 300_000);
});

describe("the main POSTs answer what the document says", () => {
  it("POST kill, restart, prompt, merge, cleanup, stdin, tokens and DELETE worker, webhook, token answers validate", async () => {
    const sleeper = await call("post", "/api/v1/lanes", { body: shellPacket(h.repoId, ["sleep", "60"]) });
    const id = (sleeper.body as LaneView).id;
    await waitForLane(h.rt, id, (l) => l.state === "running");
    expect((await call("post", "/api/v1/lanes/{id}/kill", { params: { id }, body: { graceMs: 100 } })).status).toBe(200);
    expect((await call("post", "/api/v1/lanes/{id}/kill", { params: { id } })).status).toBe(409);
    await waitForLane(h.rt, id, isTerminal);
    expect((await call("post", "/api/v1/lanes/{id}/restart", { params: { id } })).status).toBe(200);
    expect((await call("delete", "/api/v1/lanes/{id}/worker", { params: { id }, body: {} })).status).toBeLessThan(500);
    // A shell lane has no agent session: the prompt is refused in the documented shape.
    const prompt = await call("post", "/api/v1/lanes/{id}/worker/prompt", { params: { id: done.id }, body: { text: "go on" } });
    expect([409, 422]).toContain(prompt.status);
    expect((await call("get", "/api/v1/lanes/{id}/merge", { params: { id: done.id } })).status).toBe(200);
    const merged = await call("post", "/api/v1/lanes/{id}/merge", { params: { id: done.id }, body: { force: true } });
    expect(merged.status).toBe(200);
    expect((await call("post", "/api/v1/lanes/{id}/cleanup", { params: { id: done.id }, body: {} })).status).toBe(200);
    expect((await call("post", "/api/v1/processes/{id}/stdin", { params: { id: done.currentProcessId! }, body: { data: "x\n" } })).status).toBe(409);
    expect((await call("delete", "/api/v1/repos/{id}/webhooks/{webhookId}", { params: { id: h.repoId, webhookId } })).status).toBe(200);
    const token = await call("post", "/api/v1/tokens", { body: { name: "conformance", scopes: ["read"] } });
    expect(token.status).toBe(201);
    expect((await call("delete", "/api/v1/tokens/{id}", { params: { id: (token.body as { id: string }).id } })).status).toBe(200);
  }, 300_000);
});

describe("errors answer in the documented shape and status", () => {
  it("404 unknown lane, 422 bad packet, 400 bad JSON, 401 without token, 403 outside the scope", async () => {
    expect((await call("get", "/api/v1/lanes/{id}", { params: { id: "nope" } })).status).toBe(404);
    expect((await call("post", "/api/v1/lanes", { body: { objective: "" } })).status).toBe(422);
    expect((await call("post", "/api/v1/lanes", { body: "{nope" })).status).toBe(400);
    expect((await call("get", "/api/v1/board", { token: null })).status).toBe(401);
    const reader = issueTestToken(h.rt, "reader", ["read"]);
    expect((await call("post", "/api/v1/lanes/{id}/restart", { params: { id: done.id }, token: reader })).status).toBe(403);
    expect((await call("get", "/api/v1/events", { query: "limit=0" })).status).toBe(422);
    expect((await call("get", "/api/v1/processes/{id}/logs", { params: { id: done.currentProcessId! }, query: "from=99999999" })).status).toBe(416);
  });
});
