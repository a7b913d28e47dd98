/**
 * The real Laneboard server (server/main.ts, Next.js production build, no demo) on a fresh data
 * directory seeded with `lanes` settled lanes in a repo of their own, for the board benchmark.
 * Started as its own process so its RSS is its own.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadOrCreateAdminToken } from "../../server/auth/admin-token";
import { commitFile, initRepo } from "../../server/git/git.testing";
import { SERVER_ENV, SERVER_NODE_FLAGS } from "../../server/node-flags";
import { closeDatabase, openDatabase } from "../../server/store/db";
import { seedLanes } from "../../server/testing/seed-lanes";

export interface BenchServer {
  url: string;
  pid: number;
  dataDir: string;
  repoDir: string;
  repoId: string;
  /** The admin token (created before the server started, which reuses it). */
  token: string;
  /** Headers for an API call as the admin: the bearer token, JSON. */
  headers: Record<string, string>;
  /** Resident set size now, bytes (/proc/<pid>/status VmRSS). */
  rss(): Promise<number>;
  stop(): Promise<void>;
}

async function waitUp(url: string, token: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/api/v1/repos`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("server did not come up");
}

export async function startBenchServer(lanes: number, port: number): Promise<BenchServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "laneboard-bench-board-"));
  const repoDir = path.join(dataDir, "repo");
  await initRepo(repoDir);
  await commitFile(repoDir, "package.json", '{ "name": "bench" }\n', "add package.json");
  const db = await openDatabase(dataDir);
  const repoId = "bench-repo";
  await db.repo.create({ data: { id: repoId, path: repoDir, name: "bench", mainBranch: "main" } });
  if (lanes > 0) await seedLanes(db, { repoId, count: lanes, worktreeRoot: path.join(dataDir, "worktrees"), prefix: "b" });
  await closeDatabase(db);
  const token = await loadOrCreateAdminToken(dataDir);
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, "--import", "tsx", "server/main.ts", "--port", String(port), "--data-dir", dataDir, "--no-demo", "--worker-cap", "200", "--kill-on-exit"], {
    env: { ...process.env, ...SERVER_ENV, NODE_ENV: "production" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url, token, child, 120_000);
  return {
    url,
    pid: child.pid!,
    dataDir,
    repoDir,
    repoId,
    token,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    async rss() {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
