/**
 * The HTTP lifecycle over a real `node:http` server and real keep-alive client connections. The
 * handler behind it answers the way Next.js does for an unknown path (an HTML 404) and a missing
 * method (an empty 405); e2e/api-fuzz.spec.ts checks the same against the real Next.js server.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpLifecycle, type HttpLifecycle } from "./http-lifecycle";

let server: http.Server;
let lifecycle: HttpLifecycle;
let release: () => void = () => undefined;
let base = "";

async function start(): Promise<void> {
  server = http.createServer((req, res) =>
    lifecycle.handle(req, res, () => {
      if (req.url === "/api/v1/slow") {
        release = () => res.end(JSON.stringify({ ok: true }));
        return;
      }
      if (req.url === "/api/v1/lanes/nope") {
        res.writeHead(404, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: { code: "not_found", message: "lane nope not found" } }));
      }
      if (req.method === "POST" && req.headers["content-type"]?.startsWith("multipart/form-data")) {
        // Next.js looking for a Server Action on a path no route handler matched.
        res.writeHead(409, { "content-type": "text/plain; charset=utf-8" });
        return res.end("Server Action unavailable.");
      }
      if (req.method === "DELETE") {
        res.statusCode = 405;
        return res.end();
      }
      if (req.url?.startsWith("/api/v1/board")) return res.end(JSON.stringify({ repos: [] }));
      res.statusCode = 404;
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.write("<!DOCTYPE html><html>");
      res.end("<body>This page could not be found.</body></html>");
    }),
  );
  lifecycle = createHttpLifecycle(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function get(agent: http.Agent, url: string, method = "GET"): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + url, { agent, method }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("API answers that are not ours become the JSON error shape", () => {
  it("an unknown /api/v1 path: Next's HTML 404 becomes a JSON not_found; our own JSON 404 is untouched; pages keep their HTML", async () => {
    await start();
    const agent = new http.Agent();
    const unknown = await get(agent, "/api/v1/nothing?x=1");
    expect(unknown).toMatchObject({ status: 404, text: JSON.stringify({ error: { code: "not_found", message: "no API route /api/v1/nothing" } }) });
    expect(unknown.headers["content-type"]).toBe("application/json");
    expect((await get(agent, "/api/v1/lanes/nope")).text).toBe(JSON.stringify({ error: { code: "not_found", message: "lane nope not found" } }));
    expect((await get(agent, "/lanes/x")).text).toContain("<html>");
  });
  it("a method the route lacks: the empty 405 becomes JSON method_not_allowed", async () => {
    await start();
    const res = await get(new http.Agent(), "/api/v1/board", "DELETE");
    expect(res).toMatchObject({ status: 405, text: JSON.stringify({ error: { code: "method_not_allowed", message: "DELETE is not allowed on /api/v1/board" } }) });
  });
  it("a multipart POST to a path no route matches (Next's Server Action 409, text) is a JSON 404 not_found", async () => {
    await start();
    const res = await new Promise<{ status: number; type: string | undefined; text: string }>((resolve, reject) => {
      const req = http.request(`${base}/api/v1/diff/file`, { method: "POST", headers: { "content-type": "multipart/form-data; boundary=x" } }, (r) => {
        let text = "";
        r.on("data", (c: Buffer) => (text += c.toString()));
        r.on("end", () => resolve({ status: r.statusCode!, type: r.headers["content-type"], text }));
      });
      req.on("error", reject);
      req.end('"text"');
    });
    expect(res).toEqual({ status: 404, type: "application/json", text: JSON.stringify({ error: { code: "not_found", message: "no API route /api/v1/diff/file" } }) });
  });
  it("a malformed percent-encoding in an API path is a JSON 400 before the handler runs", async () => {
    await start();
    for (const url of ["/api/v1/lanes/%ZZ/summary", "/api/v1/processes/%E0%A4%A"]) {
      const res = await get(new http.Agent(), url);
      expect(res.status, url).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ error: { code: "bad_request" } });
    }
  });
  it("every answer carries a request id: the client's when sane, else a new one", async () => {
    await start();
    const agent = new http.Agent();
    expect((await get(agent, "/api/v1/board")).headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const own = await new Promise<http.IncomingMessage>((r) => http.get(`${base}/api/v1/board`, { headers: { "x-request-id": "claw-1" } }, r));
    own.resume();
    expect(own.headers["x-request-id"]).toBe("claw-1");
    const bad = await new Promise<http.IncomingMessage>((r) => http.get(`${base}/api/v1/board`, { headers: { "x-request-id": "a b;c" } }, r));
    bad.resume();
    expect(bad.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("keep-alive", () => {
  it("idle connections are kept 65 s and the answer says so, so polling clients never race a 5 s close", async () => {
    await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await get(agent, "/api/v1/board");
    expect(first.headers.connection).toBe("keep-alive");
    expect(first.headers["keep-alive"]).toBe("timeout=65");
    expect(server.keepAliveTimeout).toBe(65_000);
    expect(server.headersTimeout).toBeGreaterThan(server.keepAliveTimeout);
    agent.destroy();
  });
});

describe("shutdown", () => {
  it("answers the request in flight with Connection: close, then refuses new connections; drained resolves", async () => {
    await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await get(agent, "/api/v1/board")).headers.connection).toBe("keep-alive");
    const slow = get(agent, "/api/v1/slow");
    await expect.poll(() => lifecycle.inFlight).toBe(1);
    lifecycle.beginShutdown();
    const drained = lifecycle.drained(10_000);
    release();
    const answer = await slow;
    expect(answer).toMatchObject({ status: 200, text: '{"ok":true}' });
    expect(answer.headers.connection).toBe("close");
    expect(await drained).toBe(true);
    await expect(get(agent, "/api/v1/board")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
  it("a request arriving on a connection held open after the signal gets 503 with Connection: close", async () => {
    await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const slow = get(agent, "/api/v1/slow");
    await expect.poll(() => lifecycle.inFlight).toBe(1);
    // Signalled while a request runs, and the server keeps the connection: emulate a client
    // whose next request is already on the wire by sending it on a raw socket of the same server.
    lifecycle.beginShutdown();
    release();
    await slow;
    const refused = new http.ServerResponse(Object.assign(new http.IncomingMessage(null as never), { method: "GET", url: "/api/v1/board", headers: {} }));
    let next = false;
    lifecycle.handle(refused.req as http.IncomingMessage, refused, () => (next = true));
    expect(next).toBe(false);
    expect(refused.statusCode).toBe(503);
    expect(refused.getHeader("connection")).toBe("close");
    lifecycle.refuseInFlight(); // nothing in flight: no-op
    expect(await lifecycle.drained(0)).toBe(true);
  });
});
