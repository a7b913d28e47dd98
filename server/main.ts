/**
 * Laneboard's one process, one port: an HTTP server that serves Next.js (board and API route
 * handlers) and Socket.IO, and runs the runtime (store, event bus, supervisor, scheduler).
 *
 * Usage: `tsx server/main.ts [--port 3000] [--data-dir ./.laneboard] [--worker-cap 4]
 * [--kill-grace-ms 5000] [--kill-on-exit] [--no-demo] [--dev]` (see server/config.ts).
 * SIGINT/SIGTERM shut down promptly and honestly (server/http/http-lifecycle.ts): no new
 * connection or request is accepted (a request on a held keep-alive connection gets 503 with
 * `Connection: close`, in-flight answers go out with `Connection: close`), Socket.IO clients lose
 * their transport and so reconnect by themselves to the next server, the requests in flight are
 * answered, then the runtime stops (lanes keep running unless --kill-on-exit) and the process
 * exits: 0 when all of that finished, 1 when `--shutdown-timeout-ms` (2 s) ran out first.
 * Every request passes the request guard (server/http/request-guard.ts: Host, Origin,
 * credentials) before Next.js sees it; Socket.IO checks its handshakes itself. The board URL
 * printed at start carries the admin token (`<data-dir>/token`).
 */
// First: it must be in place before any dependency loads.
import "./dependency-source-maps";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import compression from "compression";
import next from "next";
import { loadConfig } from "./config";
import { startDemo } from "./demo/start-demo";
import { isAppError } from "@/lib/errors";
import { postgresAdapter } from "./realtime/cluster-link";
import { attachRealtime } from "./realtime/socket-server";
import { createRuntime } from "./runtime";
import { setRuntime } from "./runtime-global";
import { dropServerEnv } from "./node-flags";
import { removeServerInfo, writeServerInfo } from "./server-info";
import { createHttpLifecycle } from "./http/http-lifecycle";
import { isLoopbackHost, isWildcardHost, OriginPolicy } from "./http/origin-policy";
import { createRequestGuard } from "./http/request-guard";
import { restorePrecompressed } from "./http/precompressed";
import { adminTokenPath } from "./auth/admin-token";

// Our malloc tuning is for this process only: children (lanes, git) must not inherit it.
dropServerEnv();

async function main(): Promise<void> {
  const config = loadConfig();
  // Next.js would try to send telemetry; this machine (and many users') has no route out.
  process.env.NEXT_TELEMETRY_DISABLED ??= "1";
  const runtime = await createRuntime(config);
  setRuntime(runtime);

  const app = next({ dev: config.dev, dir: config.appDir, hostname: config.host, port: config.port });
  const handle = app.getRequestHandler();
  await app.prepare();

  const origins = new OriginPolicy({ bindHost: config.host, allowedHosts: config.allowedHosts });
  const guard = createRequestGuard({ auth: runtime.auth, origins });
  // gzip where the client accepts it (what Next.js's own `compress` did; next.config.mjs turns
  // that off so a route can send a body it compressed once). Responses that already carry a
  // Content-Encoding, and streams marked `Cache-Control: no-transform` (SSE), pass untouched.
  const compress = compression() as unknown as (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
  // The server first, then its lifecycle (which needs it), then the request handler (which needs both).
  const http = createServer();
  const lifecycle = createHttpLifecycle(http);
  http.on("request", (req: IncomingMessage, res: ServerResponse) =>
    // Installed first, so it wraps the response innermost: the API's error rewrite
    // (http/api-fallbacks.ts) replaces Next's answer before anything is compressed, and a body a
    // route compressed itself gets its Content-Encoding back before compression looks.
    compress(req, res, () => {
      restorePrecompressed(res);
      lifecycle.handle(req, res, () => {
        if (!guard(req, res)) void handle(req, res);
      });
    }),
  );
  // Several nodes on one PostgreSQL database: Socket.IO through its PostgreSQL adapter (docs/scale-out.md).
  const shared = runtime.cluster.shared ? await postgresAdapter(config.databaseUrl!) : null;
  const realtime = attachRealtime(http, {
    bus: runtime.bus,
    lanes: runtime.lanes,
    supervisor: runtime.supervisor,
    auth: runtime.auth,
    origins,
    ...(shared ? { cluster: { adapter: shared.adapter, url: config.databaseUrl!, nodeId: runtime.cluster.nodeId, rpc: runtime.cluster.rpc } } : {}),
  });
  if (config.dev) {
    // Next's dev server (HMR) also upgrades connections; Socket.IO only takes its own path.
    const upgrade = app.getUpgradeHandler();
    http.on("upgrade", (req, socket, head) => {
      if (req.url?.startsWith("/socket.io/")) return;
      if (origins.checkHandshake(req.headers)) socket.destroy();
      else void upgrade(req, socket, head);
    });
  }
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(config.port, config.host, resolve);
  });
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const shownHost = isWildcardHost(config.host) ? "127.0.0.1" : config.host.includes(":") ? `[${config.host}]` : config.host;
  const info = writeServerInfo(config.dataDir, `http://${shownHost}:${port}`);
  const node = runtime.cluster.shared ? `, node ${runtime.cluster.nodeId} on PostgreSQL` : "";
  console.log(`Laneboard on http://${shownHost}:${port}/?token=${runtime.auth.adminToken}`);
  console.log(`  (data: ${config.dataDir}, worker cap ${config.workerCap}${node}; the admin token is in ${adminTokenPath(config.dataDir)})`);
  if (!isLoopbackHost(config.host)) {
    console.warn(
      `WARNING: bound to ${config.host}, beyond this machine. Traffic (and the token) travels as plain HTTP: put a TLS proxy in front ` +
        `(README "Beyond localhost") and name its host with --allowed-host.`,
    );
  }

  let stopping: Promise<void> | null = null;
  const stop = (signal: string) =>
    (stopping ??= (async () => {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      // Whatever clients or lanes do, the process is gone by the deadline.
      setTimeout(() => {
        console.error(`shutdown: not done after ${config.shutdownTimeoutMs} ms (${lifecycle.inFlight} request(s) in flight); exiting`);
        process.exit(1);
      }, config.shutdownTimeoutMs).unref();
      console.log(`${signal}: shutting down${config.killOnExit ? " (killing lanes)" : "; lanes keep running"}`);
      removeServerInfo(config.dataDir, info);
      lifecycle.beginShutdown();
      runtime.lanes.stopAccepting();
      // No new lane is placed on this node while it drains (runtime.quit would say so only later).
      void runtime.cluster.leave().catch(() => undefined);
      const closing = realtime.close().then(() => shared?.pool.end());
      // Work accepted before the signal is finished: its requests are answered before the runtime stops.
      const drained = await lifecycle.drained(Math.max(0, deadline - Date.now() - 250));
      if (!drained) {
        // Refused cleanly rather than cut off: a long poll, or a request that would not finish in time.
        console.error(`shutdown: ${lifecycle.inFlight} request(s) still in flight; answering them 503`);
        lifecycle.refuseInFlight();
      }
      const results = await Promise.allSettled([closing, runtime.quit()]);
      setRuntime(undefined);
      await app.close?.();
      for (const r of results) if (r.status === "rejected") console.error("shutdown:", r.reason);
      process.exit(results.every((r) => r.status === "fulfilled") ? 0 : 1);
    })());
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  if (config.demo) {
    const demo = await startDemo({ dataDir: config.dataDir, repos: runtime.repos, lanes: runtime.lanes });
    if (demo) console.log(`Demo repo registered (${demo.laneIds.length} lanes).`);
  }
}

main().catch((err) => {
  // A refusal we can explain (unreachable database, a node id in use, an older node) is one line.
  console.error(isAppError(err) ? `Laneboard did not start: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
