/**
 * A full data disk, against a real server process (server/main.ts in production mode, as
 * `npm start` runs it) whose data dir is a small tmpfs (mounted here; needs root, as the test
 * machines run): a lane floods its log until the disk is full; every call made while it is full
 * gets an answer (503 `disk_full` for new work, 200 for reads) and the process lives on, printing
 * no uncaught error; once space returns (the tmpfs grows) the flooder's exit is recorded and its
 * lane settled without a restart, and the condition has both its events.
 *
 * The in-process runtime test (app/api/v1/disk-full.test.ts) covers the same path through the
 * route handlers; this one covers what only the real process has: Next.js serving the routes, the
 * process's own error handling (an unhandled rejection or 'error' event would end it) and its
 * HTTP server.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { LaneView, ProcessView } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";
import { freeBytes, MIN_FREE_BYTES } from "@/server/processes/disk-watch";
import { expect, sigkill, startServer, test, tmpfsDir, type OwnServer } from "./support";

const SIZE = "32m";

test("POST /api/v1/lanes answers 503 disk_full from a server process whose data disk is full, and the process lives on to record the flooder's exit once space returns", async () => {
  test.setTimeout(240_000);
  const { dir: dataDir, remove } = tmpfsDir("laneboard-diskfull-", SIZE);
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), "laneboard-diskfull-repo-"));
  let server: OwnServer | null = null;
  const groups: number[] = [];
  try {
    execFileSync("git", ["init", "-q", "--initial-branch=main", repo]);
    execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "--allow-empty", "-m", "init"]);
    server = await startServer(0, dataDir, ["--kill-grace-ms", "500"]);
    const own = server;
    const call = (method: string, url: string, body?: unknown) =>
      fetch(own.url + url, { method, headers: { "content-type": "application/json", authorization: `Bearer ${own.token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
      const res = await call(method, url, body);
      if (!res.ok) throw new Error(`${method} ${url} → ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const repoId = (await json<{ id: string }>("POST", "/api/v1/repos", { path: repo })).id;
    const packet = (branch: string, script: string) => ({ objective: branch, repo: repoId, branch, worker: { engine: "shell", command: ["sh", "-c", script] } });
    const fine = await json<LaneView>("POST", "/api/v1/lanes", packet("lane/fine", "echo ready; read go; echo done"));
    // It says what it is on stderr first: a worker that printed nothing would be restarted by the startup-crash recipe.
    const flood = await json<LaneView>("POST", "/api/v1/lanes", packet("lane/flood", "echo flooding >&2; exec yes 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    const processOf = async (laneId: string) => (await json<LaneView>("GET", `/api/v1/lanes/${laneId}`)).currentProcessId;
    await expect.poll(async () => (await processOf(fine.id)) !== null && (await processOf(flood.id)) !== null, { timeout: 30_000 }).toBe(true);
    const floodProcessId = (await processOf(flood.id))!;
    // A process row exists before its spawn has given it a pid: wait for the group id. A null one
    // would make the cleanup below `kill(-0)`, which is this test runner's own process group.
    for (const id of [floodProcessId, (await processOf(fine.id))!]) {
      await expect.poll(async () => (await json<ProcessView>("GET", `/api/v1/processes/${id}`)).pgid ?? 0, { timeout: 30_000 }).toBeGreaterThan(1);
      groups.push((await json<ProcessView>("GET", `/api/v1/processes/${id}`)).pgid!);
    }
    await expect.poll(async () => (await freeBytes(dataDir))! < MIN_FREE_BYTES, { timeout: 60_000 }).toBe(true);

    // While full: new work is refused with 503 disk_full (not a 500, not a dropped connection), reads answer.
    for (const branch of ["lane/refused-1", "lane/refused-2"]) {
      const refused = await call("POST", "/api/v1/lanes", packet(branch, "true"));
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("disk_full");
    }
    const restart = await call("POST", `/api/v1/lanes/${fine.id}/restart`, {});
    expect([409, 503]).toContain(restart.status); // still running (409) or refused for room (503): an answer either way
    expect((await call("GET", "/api/v1/board")).status).toBe(200);
    expect((await json<LaneView>("GET", `/api/v1/lanes/${fine.id}`)).state).toBe("running");

    // Space returns (the tmpfs grows): the flooder's exit lands without a restart.
    execFileSync("mount", ["-o", `remount,size=64m`, dataDir], { stdio: "ignore" });
    await expect.poll(async () => (await json<LaneView>("GET", `/api/v1/lanes/${flood.id}`)).state, { timeout: 60_000 }).toBe("failed");
    expect(await json<ProcessView>("GET", `/api/v1/processes/${floodProcessId}`)).toMatchObject({ status: "exited" });
    await expect
      .poll(async () => (await json<{ events: LaneEvent[] }>("GET", "/api/v1/events?after=0&limit=5000")).events.filter((e) => e.type.startsWith("disk.")).map((e) => e.type), { timeout: 30_000 })
      .toEqual(["disk.full", "disk.space_freed"]);
    expect((await json<LaneView>("GET", `/api/v1/lanes/${fine.id}`)).state).toBe("running");

    // The process lived through all of it, and said nothing of an uncaught error.
    expect([server.child.exitCode, server.child.signalCode]).toEqual([null, null]);
    expect(server.output()).not.toMatch(/uncaught|unhandled/i);
  } finally {
    if (server) await sigkill(server.child);
    for (const pgid of groups) {
      if (!(pgid > 1)) continue; // never our own group (kill(-0)) or every process (kill(-1))
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // ended already
      }
    }
    remove();
    fs.rmSync(repo, { recursive: true, force: true });
  }
});
