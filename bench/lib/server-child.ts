/**
 * The Laneboard server for the process benchmark, run as its own process so that its CPU time
 * and RSS are measured apart from the bench driver:
 *
 *   node --import tsx bench/lib/server-child.ts <dataDir> <repoDir>   (started by the driver with fork)
 *
 * It is `server/main.ts` without Next.js (not on the log path): the real runtime
 * (`createRuntime`: SQLite, event log, supervisor, lane service, scheduler, freshness) and the real
 * realtime layer (`attachRealtime`) on a plain HTTP server on 127.0.0.1, port chosen by the OS.
 * The driver controls it over fork IPC (bench/lib/protocol.ts); output reaches the driver only
 * through Socket.IO.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigSchema } from "../../server/config";
import { commitFile, initRepo } from "../../server/git/git.testing";
import { attachBenchRealtime } from "./bench-realtime";
import { processPaths } from "../../server/processes/wrapper";
import { createRuntime, type Runtime } from "../../server/runtime";
import type { BenchLane, Ready, Reply, Request, Result } from "./protocol";
import { dropServerEnv } from "../../server/node-flags";

// Our malloc tuning is for this process only: children (lanes, git) must not inherit it.
dropServerEnv();

const [dataDir, repoDir] = process.argv.slice(2);
if (!dataDir || !repoDir || !process.send) {
  console.error("usage: fork(server-child.ts, [dataDir, repoDir]) with an IPC channel");
  process.exit(2);
}
const REPO_DIR: string = repoDir;
const send = (msg: Reply | Ready) => process.send!(msg);

const rt = await createRuntime(
  ConfigSchema.parse({ dataDir, port: 0, demo: false, dev: false, workerCap: 1000, killGraceMs: 2000, killOnExit: true }),
);
const http = createServer((_req, res) => res.writeHead(404).end());
const realtime = attachBenchRealtime(http, rt);
await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
let stopping: Promise<void> | null = null;
const shutdown = () => {
  // Diagnostics in the server log: how much output went live and how much was read back for a slow client.
  if (!stopping) console.error(`[bench] fanout ${JSON.stringify({ ...realtime.fanout.stats, slabsAllocated: realtime.fanout.pool.allocated })}`);
  return (stopping ??= Promise.allSettled([realtime.close(), rt.quit()]).then(() => undefined));
};

/**
 * A real repo at `repoDir` (created; the driver removes it with its temp dir) and `count` lanes
 * through the production path (worktree, rows, events, scheduler, runner); their workers exit at once.
 */
async function setup(runtime: Runtime, count: number): Promise<BenchLane[]> {
  await initRepo(REPO_DIR);
  await commitFile(REPO_DIR, "package.json", '{ "name": "bench" }\n', "add package.json");
  const { id: repoId } = await runtime.repos.register({ path: REPO_DIR });
  const finished = new Set<string>();
  let wake = () => undefined as void;
  const off = runtime.bus.on("lane.event", (e) => {
    if (e.type !== "lane.finished" || !e.laneId) return;
    finished.add(e.laneId);
    wake();
  });
  try {
    const lanes = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        runtime.lanes.create({ objective: `bench lane ${i}`, repo: repoId, branch: `lane/bench-${i}`, worker: { engine: "shell", command: ["true"] } }),
      ),
    );
    const deadline = Date.now() + 120_000;
    while (lanes.some((l) => !finished.has(l.id))) {
      if (Date.now() > deadline) throw new Error(`only ${finished.size} of ${count} lanes finished within 120 s`);
      await new Promise<void>((r) => ((wake = r), setTimeout(r, 1000)));
    }
    return lanes.map((l) => ({ laneId: l.id, worktreePath: l.worktreePath }));
  } finally {
    off();
  }
}

async function handle(req: Request): Promise<Result> {
  switch (req.cmd) {
    case "setup":
      return { cmd: "setup", lanes: await setup(rt, req.lanes), dataDir: rt.config.dataDir };
    case "start": {
      const view = await rt.supervisor.start({ laneId: req.laneId, role: "background", argv: req.argv, cwd: req.cwd, confineTo: req.cwd });
      return { cmd: "start", processId: view.id, pid: view.pid!, stdoutPath: processPaths(rt.config.dataDir, view.id).stdout };
    }
    case "kill":
      return { cmd: "kill", status: (await rt.supervisor.kill(req.processId)).status };
    case "memory":
      if (req.gc) (globalThis as { gc?: () => void }).gc?.();
      return { cmd: "memory", usage: process.memoryUsage() };
    case "quit":
      await shutdown();
      return { cmd: "quit" };
  }
}

process.on("message", (raw) => {
  const req = raw as Request;
  handle(req).then(
    (result) => {
      send({ seq: req.seq, ok: true, result });
      if (result.cmd === "quit") process.disconnect();
    },
    (err: unknown) => send({ seq: req.seq, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
// The driver went away without `quit`: shut down (killing our process groups) rather than linger.
process.on("disconnect", () => void shutdown().finally(() => process.exit(0)));

send({ ready: true, port: (http.address() as AddressInfo).port, pid: process.pid, token: rt.auth.adminToken });
