/**
 * The fence watchdog (fence-watchdog.mjs) as a real detached process over a data dir laid out as
 * the supervisor lays it out: a lane's process group (a `/bin/sh` wrapper naming its process dir)
 * and the node's lease file naming the node's process. The lease's modification time is set in
 * the past, so each case starts where a node stopped renewing long ago.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readProcStat } from "../processes/procfs";

const WATCHDOG = fileURLToPath(new URL("./fence-watchdog.mjs", import.meta.url));
const LEASE_MS = 1000;

let dataDir: string;
const started: ChildProcess[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "laneboard-fence-"));
  await mkdir(path.join(dataDir, "cluster"), { recursive: true });
});
afterEach(async () => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, "SIGKILL");
  await rm(dataDir, { recursive: true, force: true });
});

/** A lane's process group as the supervisor leaves it: `/bin/sh -c <script> sh <dir>`, its pid in `<dir>/pid`, no exit file. */
async function laneGroup(id: string): Promise<ChildProcess> {
  const dir = path.join(dataDir, "processes", id);
  await mkdir(dir, { recursive: true });
  const child = spawn("/bin/sh", ["-c", "sleep 600", "sh", dir], { detached: true, stdio: "ignore" });
  started.push(child);
  await writeFile(path.join(dir, "pid"), `${child.pid}\n`);
  return child;
}

/** A stand-in for the node's process, and the lease file naming it, last renewed `agoMs` ago. */
async function nodeWithLease(agoMs: number): Promise<ChildProcess> {
  const node = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true, stdio: "ignore" });
  started.push(node);
  const lease = path.join(dataDir, "cluster", "lease");
  await writeFile(lease, `${node.pid} ${readProcStat(node.pid!)!.startTime}\n`);
  const at = new Date(Date.now() - agoMs);
  await utimes(lease, at, at);
  return node;
}

const exitOf = (c: ChildProcess) => new Promise<NodeJS.Signals | number | null>((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.signalCode ?? c.exitCode) : c.once("exit", (code, signal) => r(signal ?? code))));

function startWatchdog(): ChildProcess {
  const w = spawn(process.execPath, [WATCHDOG, dataDir, String(LEASE_MS)], { detached: true, stdio: "ignore" });
  started.push(w);
  return w;
}

/** Resolves once the fence log has a line matching `re` (the watchdog appends one per action). */
async function logged(re: RegExp, watchdog: ChildProcess): Promise<string> {
  for (;;) {
    const text = await readFile(path.join(dataDir, "cluster", "fence.log"), "utf8").catch(() => "");
    if (re.test(text)) return text;
    if (watchdog.exitCode !== null) throw new Error(`the watchdog exited without logging ${re}: ${text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const stateOf = (pid: number) => readProcStat(pid)?.state ?? null;

describe("fence watchdog", () => {
  it("kills the paused processes of a node that died and stayed dead past ten leases, then exits", async () => {
    const lane = await laneGroup("P1");
    const node = await nodeWithLease(ABANDONED);
    node.kill("SIGKILL");
    await exitOf(node);
    const watchdog = startWatchdog();
    expect(await exitOf(lane)).toBe("SIGKILL");
    expect(await exitOf(watchdog)).toBe(0);
    const log = await readFile(path.join(dataDir, "cluster", "fence.log"), "utf8");
    expect(log).toMatch(new RegExp(`paused group ${lane.pid}: lease not renewed`));
    expect(log).toMatch(new RegExp(`killed group ${lane.pid}: the node is gone`));
    expect(log).toMatch(/exits: the node is gone: its paused processes were killed/);
  });

  it("keeps a node's processes paused, not killed, while the node's process still runs (cut off from the database): it decides when it is back", async () => {
    const lane = await laneGroup("P1");
    await nodeWithLease(ABANDONED);
    const watchdog = startWatchdog();
    const log = await logged(/stay paused/, watchdog);
    expect(log).toMatch(new RegExp(`paused group ${lane.pid}: lease not renewed`));
    expect(log).toMatch(/the node's process runs \(or is not named\): its 1 paused group\(s\) stay paused/);
    expect(stateOf(lane.pid!)).toBe("T");
    expect(watchdog.exitCode).toBeNull();
    expect(log).not.toMatch(/killed group/);
  });

  it("does not kill on a guess: a lease file that names no process (an older node) keeps its processes paused", async () => {
    const lane = await laneGroup("P1");
    const lease = path.join(dataDir, "cluster", "lease");
    await writeFile(lease, `${new Date().toISOString()}\n`);
    const at = new Date(Date.now() - ABANDONED);
    await utimes(lease, at, at);
    const watchdog = startWatchdog();
    const log = await logged(/stay paused/, watchdog);
    expect(stateOf(lane.pid!)).toBe("T");
    expect(watchdog.exitCode).toBeNull();
    expect(log).not.toMatch(/killed group/);
  });
});

/** Silent for longer than ABANDON_LEASES (10) leases. */
const ABANDONED = 12 * LEASE_MS;
