/**
 * The real Laneboard server (server/main.ts, Next.js production build, no demo) on a fresh data
 * directory seeded with `lanes` settled lanes in a repo of their own, for the board benchmark.
 * Started as its own process so its RSS is its own.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { commitFile, initRepo } from "../../server/git/git.testing";
import { startServer } from "../../server/testing/server-process";
import { closeDatabase, openDatabase } from "../../server/store/db";
import { seedLanes } from "../../server/testing/seed-lanes";

export interface BenchServer {
  url: string;
  pid: number;
  dataDir: string;
  repoDir: string;
  repoId: string;
  /** The admin token the server created. */
  token: string;
  /** Headers for an API call as the admin: the bearer token, JSON. */
  headers: Record<string, string>;
  /** Resident set size now, bytes (/proc/<pid>/status VmRSS). */
  rss(): Promise<number>;
  /**
   * Resolves once the board has stopped changing: its ETag the same for `polls` reads in a row,
   * `everyMs` apart (at boot, freshness fills in every lane's `baseMoved`, one lane at a time).
   * @returns ms it took
   */
  settled(polls?: number, everyMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startBenchServer(lanes: number, port: number): Promise<BenchServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "laneboard-bench-board-"));
  const repoDir = path.join(dataDir, "repo");
  await initRepo(repoDir);
  await commitFile(repoDir, "package.json", '{ "name": "bench" }\n', "add package.json");
  const db = await openDatabase(dataDir);
  const repoId = "bench-repo";
  await db.repo.create({ data: { id: repoId, path: repoDir, name: "bench", mainBranch: "main" } });
  if (lanes > 0) await seedLanes(db, { repoId, count: lanes, worktreeRoot: path.join(dataDir, "worktrees"), prefix: "b", repoPath: repoDir });
  await closeDatabase(db);
  // The same start as the tests' own servers (production build, no demo); it resolves once the
  // server prints its board URL. Its output is kept by the helper, not shown.
  const { child, token, url } = await startServer(port, dataDir, ["--worker-cap", "200", "--kill-on-exit"]);
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
    async settled(polls = 4, everyMs = 250) {
      const t0 = performance.now();
      let last: string | null = null;
      for (let same = 0; same < polls; ) {
        const res = await fetch(`${url}/api/v1/board`, { headers: { authorization: `Bearer ${token}` } });
        await res.arrayBuffer();
        const etag = res.headers.get("etag");
        same = etag !== null && etag === last ? same + 1 : 0;
        last = etag;
        await new Promise((r) => setTimeout(r, everyMs));
      }
      return performance.now() - t0;
    },
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
