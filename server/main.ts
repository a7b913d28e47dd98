/**
 * Laneboard's one process, one port: an HTTP server that serves Next.js (board and API route
 * handlers) and Socket.IO, and runs the runtime (store, event bus, supervisor, scheduler).
 *
 * Usage: `tsx server/main.ts [--port 3000] [--data-dir ./.laneboard] [--worker-cap 4]
 * [--kill-grace-ms 5000] [--kill-on-exit] [--no-demo] [--dev]` (see server/config.ts).
 * SIGINT/SIGTERM shut down cleanly: stop accepting connections and work, stop process readers
 * (lanes keep running unless --kill-on-exit), close the database, exit 0.
 */
import { createServer } from "node:http";
import next from "next";
import { loadConfig } from "./config";
import { startDemo } from "./demo/start-demo";
import { attachRealtime } from "./realtime/socket-server";
import { createRuntime } from "./runtime";
import { setRuntime } from "./runtime-global";
import { dropServerEnv } from "./node-flags";
import { removeServerInfo, writeServerInfo } from "./server-info";

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

  const http = createServer((req, res) => void handle(req, res));
  const realtime = attachRealtime(http, { bus: runtime.bus, lanes: runtime.lanes, supervisor: runtime.supervisor });
  if (config.dev) {
    // Next's dev server (HMR) also upgrades connections; Socket.IO only takes its own path.
    const upgrade = app.getUpgradeHandler();
    http.on("upgrade", (req, socket, head) => {
      if (!req.url?.startsWith("/socket.io/")) void upgrade(req, socket, head);
    });
  }
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(config.port, config.host, resolve);
  });
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const info = writeServerInfo(config.dataDir, `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`);
  console.log(`Laneboard on http://${config.host}:${port} (data: ${config.dataDir}, worker cap ${config.workerCap})`);

  let stopping: Promise<void> | null = null;
  const stop = (signal: string) =>
    (stopping ??= (async () => {
      console.log(`${signal}: shutting down${config.killOnExit ? " (killing lanes)" : "; lanes keep running"}`);
      removeServerInfo(config.dataDir, info);
      const results = await Promise.allSettled([realtime.close(), runtime.quit()]);
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
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
