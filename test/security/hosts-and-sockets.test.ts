/**
 * Attack: DNS rebinding (a foreign name resolving to 127.0.0.1 makes the browser treat the
 * server as that name's same origin), CORS reads from foreign origins, and Socket.IO handshakes
 * from a foreign page or without credentials (the socket streams every lane's output).
 * Real HTTP requests and real Socket.IO clients against the real server process.
 */
import { request } from "node:http";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LaneEvent } from "@/lib/lane-events";
import type { ClientToServerEvents, ServerToClientEvents } from "@/lib/socket-events";
import { expectError, send, startSecurityServer, type SecurityServer } from "./harness";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

let s: SecurityServer;
let before: string;
/** A legit admin client, connected throughout: it must keep its connection and its events. */
let legit: Client;

beforeAll(async () => {
  s = await startSecurityServer();
  legit = connect(s.base, { transports: ["websocket"], reconnection: false, auth: { token: s.token } });
  await new Promise<void>((resolve, reject) => {
    legit.once("connect", resolve);
    legit.once("connect_error", reject);
  });
  before = await s.fingerprint();
});
afterAll(async () => {
  legit?.close();
  await s?.stop();
});

/** GET with a forged Host header (fetch does not let a caller set Host). */
function withHost(pathname: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(s.base + pathname, { headers: { ...headers, host } }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: text.startsWith("{") ? JSON.parse(text) : text }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Try a Socket.IO connection; resolves with how it ended (never leaves it open). */
function handshake(opts: { token?: unknown; headers?: Record<string, string>; transport?: "websocket" | "polling"; query?: Record<string, string> }): Promise<{ connected: boolean; error?: string; data?: unknown }> {
  const c: Client = connect(s.base, {
    transports: [opts.transport ?? "websocket"],
    reconnection: false,
    forceNew: true,
    ...(opts.token === undefined ? {} : { auth: { token: opts.token } }),
    extraHeaders: opts.headers,
    query: opts.query,
  });
  return new Promise((resolve) => {
    c.once("connect", () => {
      c.close();
      resolve({ connected: true });
    });
    c.once("connect_error", (err: Error & { data?: unknown }) => {
      c.close();
      resolve({ connected: false, error: err.message, data: err.data });
    });
  });
}

describe("DNS rebinding: a Host this server does not answer to", () => {
  for (const host of ["evil.example", "127.0.0.1.evil.example", "localhost.evil.example:3000", "laneboard.local"]) {
    it(`GET /api/v1/board with Host: ${host} and a valid token → 403 forbidden`, async () => {
      const a = await withHost("/api/v1/board", host, { authorization: `Bearer ${s.token}` });
      expect(a.status).toBe(403);
      expect(a.json).toEqual({ error: expect.objectContaining({ code: "forbidden", message: expect.stringContaining("Host") }) });
    });
  }

  it("the board page and the token URL with a rebinding Host → 403; no session cookie is set", async () => {
    for (const p of ["/", `/?token=${s.token}`, "/settings"]) expect((await withHost(p, `evil.example:${s.server.port}`, { cookie: s.cookie })).status, p).toBe(403);
  });
});

describe("no CORS for foreign origins", () => {
  it("OPTIONS preflight and GET /api/v1/board from a foreign Origin carry no Access-Control-* headers", async () => {
    const preflight = await send(`${s.base}/api/v1/lanes`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
    });
    const read = await send(`${s.base}/api/v1/board`, { headers: { origin: "https://evil.example", authorization: `Bearer ${s.token}` } });
    const socketPoll = await send(`${s.base}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "https://evil.example" } });
    for (const a of [preflight, read, socketPoll]) {
      expect([...a.headers.keys()].filter((k) => k.startsWith("access-control-"))).toEqual([]);
    }
  });
});

describe("Socket.IO handshakes", () => {
  it("a valid token from a foreign Origin is refused before any packet (polling handshake 403, no session id)", async () => {
    const poll = await send(`${s.base}/socket.io/?EIO=4&transport=polling`, { headers: { origin: "https://evil.example", authorization: `Bearer ${s.token}` } });
    expect(poll.status).toBe(403);
    expect(poll.text).not.toContain("sid");
    for (const transport of ["websocket", "polling"] as const) {
      expect(await handshake({ token: s.token, headers: { origin: "https://evil.example" }, transport }), transport).toMatchObject({ connected: false });
    }
  });

  it("Origin: null, Sec-Fetch-Site: cross-site, another local port, or a rebinding Host are refused with a valid token", async () => {
    const cases: Record<string, string>[] = [{ origin: "null" }, { "sec-fetch-site": "cross-site" }, { origin: "http://127.0.0.1:1" }, { host: "evil.example" }];
    for (const headers of cases) expect(await handshake({ token: s.token, headers }), JSON.stringify(headers)).toMatchObject({ connected: false });
  });

  it("without credentials, with a wrong token, or a token that is not a string: connect_error unauthorized", async () => {
    for (const token of [undefined, "not-a-token", s.token.slice(0, -1), 42, ""]) {
      const r = await handshake({ token });
      expect(r, String(token)).toMatchObject({ connected: false, error: "unauthorized", data: { code: "unauthorized", message: expect.stringMatching(/\S/) } });
    }
  });

  it("a token in the handshake's query string or in a header it is not read from does not authenticate", async () => {
    const misplaced: Array<{ query?: Record<string, string>; headers?: Record<string, string> }> = [
      { query: { token: s.token } },
      { query: { access_token: s.token } },
      { headers: { "x-api-key": s.token } },
      { headers: { authorization: `Token ${s.token}` } },
    ];
    for (const opts of misplaced) {
      expect(await handshake(opts), JSON.stringify(Object.keys(opts))).toMatchObject({ connected: false, error: "unauthorized" });
    }
  });

  it("the board's session cookie from its own page connects (the legit path), the admin client was never dropped, and nothing changed", async () => {
    expect(await handshake({ headers: { cookie: s.cookie, origin: s.base } })).toEqual({ connected: true });
    expect(legit.connected).toBe(true);
    expect(await s.fingerprint()).toBe(before);
    // And it still hears about new work.
    const heard = new Promise<LaneEvent>((resolve) => legit.on("lane:event", (e) => e.type === "lane.created" && resolve(e)));
    const created = await s.api("/api/v1/lanes", { method: "POST", body: JSON.stringify({ ...s.attackPacket("legit/after-sockets"), worker: { engine: "shell", command: ["true"] } }) });
    expect(created.status, created.text).toBe(201);
    expect((await heard).laneId).toBe((created.json as { id: string }).id);
    expectError(await send(`${s.base}/api/v1/board`), 401, "unauthorized");
  });
});
