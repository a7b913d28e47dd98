/**
 * One Laneboard node for `npm run bench:cluster`, as its own process (forked by bench/cluster.ts):
 *
 *   node --import tsx bench/lib/cluster-node.ts <config-json>
 *
 * `server/main.ts` without Next.js (not on any measured path): the real runtime (`createRuntime`
 * with its cluster parts) and the real realtime layer (`attachRealtime`, on Socket.IO's
 * PostgreSQL adapter when the config names a database URL) on a plain HTTP server, port chosen by
 * the OS. The driver controls it over fork IPC: `{ seq, cmd, … }` → `{ seq, ok, result | error }`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigSchema, type ConfigInput } from "../../server/config";
import { dropServerEnv } from "../../server/node-flags";
import { postgresAdapter } from "../../server/realtime/cluster-link";
import { attachBenchRealtime } from "./bench-realtime";
import { createRuntime } from "../../server/runtime";

dropServerEnv();

const config = ConfigSchema.parse({ port: 0, demo: false, dev: false, killGraceMs: 1000, killOnExit: true, ...(JSON.parse(process.argv[2]!) as ConfigInput) });
const rt = await createRuntime(config);
const shared = rt.cluster.shared ? await postgresAdapter(config.databaseUrl!) : null;
const http = createServer((_req, res) => res.writeHead(404).end());
const realtime = attachBenchRealtime(http, rt, shared ? { adapter: shared.adapter, url: config.databaseUrl!, nodeId: rt.cluster.nodeId, rpc: rt.cluster.rpc } : undefined);
await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));

type Cmd =
  | { cmd: "repo"; path: string }
  | { cmd: "lanes"; repo: string; count: number; argv: string[]; prefix: string }
  | { cmd: "caps"; caps: unknown }
  | { cmd: "states"; ids: string[] }
  | { cmd: "events"; after: number; type: string }
  | { cmd: "nodes" }
  | { cmd: "quit" };

async function handle(c: Cmd): Promise<unknown> {
  switch (c.cmd) {
    case "repo":
      return (await rt.repos.register({ path: c.path })).id;
    case "lanes": {
      const ids: string[] = [];
      for (let i = 0; i < c.count; i++) ids.push((await rt.lanes.create({ objective: `${c.prefix} ${i}`, repo: c.repo, branch: `lane/${c.prefix}-${i}`, worker: { engine: "shell", command: c.argv } })).id);
      return ids;
    }
    case "caps":
      return rt.scheduler.settings.setCaps(c.caps);
    case "states": {
      const rows = await rt.db.lane.findMany({ where: { id: { in: c.ids } }, select: { id: true, state: true, nodeId: true } });
      return rows;
    }
    case "events": {
      const rows = await rt.db.laneEvent.findMany({ where: { id: { gt: c.after }, type: c.type }, orderBy: { id: "asc" }, select: { id: true, laneId: true, at: true, payload: true } });
      return rows.map((r) => ({ ...r, at: r.at.getTime() }));
    }
    case "nodes":
      return rt.cluster.nodes();
    case "quit":
      await Promise.allSettled([realtime.close().then(() => shared?.pool.end()), rt.quit()]);
      return null;
  }
}

process.on("message", (raw) => {
  const msg = raw as Cmd & { seq: number };
  handle(msg).then(
    (result) => {
      process.send!({ seq: msg.seq, ok: true, result });
      if (msg.cmd === "quit") process.disconnect();
    },
    (err: unknown) => process.send!({ seq: msg.seq, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on("disconnect", () => void Promise.allSettled([realtime.close(), rt.quit()]).finally(() => process.exit(0)));
process.send!({ ready: true, port: (http.address() as AddressInfo).port, nodeId: rt.cluster.nodeId, token: rt.auth.adminToken });
