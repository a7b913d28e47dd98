/**
 * A real server process is SIGKILLed while a lane runs: the lane's process keeps running, a new
 * server reattaches to it (same pid), and when the process ends while no server is up, the next
 * server records its real exit code and every output line exactly once.
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import type { LaneView, ProcessView } from "@/lib/api";
import { expect, ownApi, pidsInGroup, sigkill, startServer as startOwn, test } from "./support";

const PORT = Number(process.env.LANEBOARD_E2E_PORT ?? 3917) + 4; // +1 is the model server (playwright.config.ts)
const base = `http://127.0.0.1:${PORT}`;

/** The servers share one data dir, so one admin token (created by the first). */
let token = "";

const startServer = async (dataDir: string): Promise<ChildProcess> => {
  const own = await startOwn(PORT, dataDir);
  token = own.token;
  return own.child;
};

const api = ownApi(() => ({ url: base, token }));

test("lanes survive a SIGKILLed server: reattach, exit recorded while down, no lost or doubled lines", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "laneboard-restart-"));
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), "laneboard-restart-repo-"));
  execFileSync("git", ["init", "-q", "--initial-branch=main", repo]);
  execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "--allow-empty", "-m", "init"]);
  const servers: ChildProcess[] = [];
  let pgid = 0;
  try {
    servers.push(await startServer(dataDir));
    const { id: repoId } = await api<{ id: string }>("POST", "/api/v1/repos", { path: repo });
    // 100 lines, wait for a line on stdin, 100 more, exit 5.
    const script = 'i=1; while [ $i -le 200 ]; do echo "n-$i"; [ $i -eq 100 ] && read go; i=$((i+1)); done; exit 5';
    const lane = await api<LaneView>("POST", "/api/v1/lanes", {
      objective: "survive restarts",
      repo: repoId,
      branch: "lane/survivor",
      worker: { engine: "shell", command: ["sh", "-c", script] },
    });
    await expect.poll(async () => (await api<{ lines: { text: string }[] }>("GET", `/api/v1/lanes/${lane.id}/logs?limit=500`)).lines.length).toBe(100);
    const before = await api<LaneView>("GET", `/api/v1/lanes/${lane.id}`);
    const proc = await api<ProcessView>("GET", `/api/v1/processes/${before.currentProcessId}`);
    pgid = proc.pgid!;

    // 1. SIGKILL the server: the lane's process group lives on.
    await sigkill(servers.pop()!);
    expect(pidsInGroup(proc.pgid!).length).toBeGreaterThan(0);

    // 2. A new server reattaches: same process, same pid, lane still running.
    servers.push(await startServer(dataDir));
    const reattached = await api<LaneView>("GET", `/api/v1/lanes/${lane.id}`);
    expect(reattached.state).toBe("running");
    expect(reattached.currentProcessId).toBe(proc.id);
    expect((await api<ProcessView>("GET", `/api/v1/processes/${proc.id}`)).pid).toBe(proc.pid);

    // 3. SIGKILL again; the process finishes while no server is up (released through its stdin FIFO).
    await sigkill(servers.pop()!);
    fs.writeFileSync(path.join(dataDir, "processes", proc.id, "stdin.fifo"), "go\n");
    await expect.poll(() => pidsInGroup(proc.pgid!).length).toBe(0);

    // 4. The next server records the real exit code and the output written meanwhile.
    servers.push(await startServer(dataDir));
    await expect.poll(async () => (await api<LaneView>("GET", `/api/v1/lanes/${lane.id}`)).state).toBe("failed");
    const after = await api<LaneView>("GET", `/api/v1/lanes/${lane.id}`);
    expect(after.lastExitCode).toBe(5);
    const log = await api<{ lines: { text: string }[] }>("GET", `/api/v1/processes/${proc.id}/logs?stream=stdout&fromLine=0&limit=1000`);
    expect(log.lines.map((l) => l.text)).toEqual(Array.from({ length: 200 }, (_, i) => `n-${i + 1}`));
    const events = await api<{ events: { type: string }[] }>("GET", `/api/v1/events?after=0&laneId=${lane.id}&limit=5000`);
    expect(events.events.filter((e) => e.type === "lane.started")).toHaveLength(1); // never started twice
  } finally {
    for (const s of servers) await sigkill(s);
    if (pgid && pidsInGroup(pgid).length) process.kill(-pgid, "SIGKILL"); // never leave the lane behind
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(repo, { recursive: true, force: true });
  }
});
