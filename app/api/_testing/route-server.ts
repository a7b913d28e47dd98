/**
 * Test helper: a real HTTP server on a loopback port that serves the app's route handlers
 * (`app/**\/route.ts`, the same functions Next.js calls) without building Next.js, so real HTTP
 * clients (the CLI as a child process, an MCP client, an SSE client that drops its connection)
 * can be tested against the real handlers and a real runtime. Routing follows the App Router's
 * folder rules: `[id]` is a parameter, `_name` folders are private. Not imported by runtime code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { setRuntime } from "@/server/runtime-global";
import { shellPacket, startTestRuntime, type TestRuntime } from "@/server/testing/runtime-harness";
import type { TaskPacketInput } from "@/lib/task-packet";
import { authHeaders } from "@/server/testing/auth";
import { OriginPolicy } from "@/server/http/origin-policy";
import { createRequestGuard, type RequestGuard } from "@/server/http/request-guard";
import { restorePrecompressed } from "@/server/http/precompressed";

type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

/** One route file: its URL pattern (`/api/v1/lanes/[id]`) and the segments to match. */
export interface RouteFile {
  file: string;
  pattern: string;
  segments: string[];
}

const APP_DIR = path.resolve(import.meta.dirname, "../..");

/** Every `route.ts` under `app/` as a URL pattern, static segments before parameters. */
export function listRouteFiles(root = APP_DIR): RouteFile[] {
  const out: RouteFile[] = [];
  const walk = (dir: string, segments: string[]) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        if (!name.startsWith("_") && name !== "node_modules") walk(full, [...segments, name]);
      } else if (name === "route.ts") out.push({ file: full, pattern: `/${segments.join("/")}`, segments });
    }
  };
  walk(root, []);
  // Static segments win over parameters, as in the App Router.
  return out.sort((a, b) => a.segments.filter((s) => s.startsWith("[")).length - b.segments.filter((s) => s.startsWith("[")).length);
}

function match(route: RouteFile, parts: string[]): Record<string, string> | null {
  if (route.segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const seg = route.segments[i]!;
    if (seg.startsWith("[")) params[seg.slice(1, -1)] = decodeURIComponent(parts[i]!);
    else if (seg !== parts[i]) return null;
  }
  return params;
}

function toRequest(req: IncomingMessage, origin: string): Request {
  const abort = new AbortController();
  req.socket.once("close", () => abort.abort());
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(new URL(req.url ?? "/", origin), {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    signal: abort.signal,
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  res.once("close", () => void reader.cancel().catch(() => undefined));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((r) => res.once("drain", r));
    }
  } catch {
    // The client went away mid-stream.
  }
  res.end();
}

export interface RouteServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Start the server on 127.0.0.1 (port 0 unless given). Unknown paths or methods answer 404/405 in
 * the API's error shape. With `guard` (server/http/request-guard.ts), every request passes it
 * first, as in production.
 */
export async function startRouteServer(port = 0, guard?: RequestGuard): Promise<RouteServer> {
  const routes = listRouteFiles();
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  const load = (file: string) => modules.get(file) ?? (modules.set(file, import(file)), modules.get(file)!);
  let origin = "";
  const server = createServer((req, res) => {
    // As the production server does: a body a route compressed itself gets its Content-Encoding.
    restorePrecompressed(res);
    if (guard?.(req, res)) return;
    void (async () => {
      const url = new URL(req.url ?? "/", origin);
      const parts = url.pathname.split("/").filter(Boolean);
      for (const route of routes) {
        const params = match(route, parts);
        if (!params) continue;
        const handler = (await load(route.file))[req.method ?? "GET"] as Handler | undefined;
        if (!handler) return send(res, Response.json({ error: { code: "method_not_allowed", message: `${req.method} is not allowed` } }, { status: 405 }));
        return send(res, await handler(toRequest(req, origin), { params: Promise.resolve(params) }));
      }
      return send(res, Response.json({ error: { code: "not_found", message: `no route ${url.pathname}` } }, { status: 404 }));
    })().catch((err: unknown) => {
      console.error("[route-server]", err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  // Node closes a keep-alive socket after 5 s idle; a test's client that pauses longer (a lane
  // running on a loaded machine) may reuse it just then and get ECONNRESET. Idle sockets are
  // closed by close() instead.
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}`;
  return {
    url: origin,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A real runtime (server/testing/runtime-harness.ts) served over HTTP by {@link startRouteServer}. */
export interface HttpTestRuntime extends TestRuntime {
  /** The server's origin, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** `{ authorization: "Bearer <admin token>" }` for the test's HTTP clients. */
  headers: { authorization: string };
}

/**
 * Start a test runtime, make it the route handlers' runtime, and serve it behind the production
 * request guard (Host, Origin, credentials); `close()` undoes all three.
 */
export async function startHttpRuntime(config: Parameters<typeof startTestRuntime>[0] = {}): Promise<HttpTestRuntime> {
  const h = await startTestRuntime(config);
  setRuntime(h.rt);
  const srv = await startRouteServer(0, createRequestGuard({ auth: h.rt.auth, origins: new OriginPolicy({ bindHost: "127.0.0.1" }) }));
  return {
    ...h,
    url: srv.url,
    headers: authHeaders(h.rt),
    async close() {
      await srv.close();
      setRuntime(undefined);
      await h.close();
    },
  };
}

/** A shell-engine task packet for the harness repo (a fresh branch each call). */
export function shellPacketFor(h: TestRuntime, argv: string[]): TaskPacketInput {
  return shellPacket(h.repoId, argv);
}
