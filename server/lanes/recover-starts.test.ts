/**
 * A lane whose start a SIGKILLed server cut before its worker ran is started again at the next
 * boot, exactly once: a real runtime in a child process (testdata/cut-start-child.ts) kills itself
 * in the middle of starting a shell lane, after the worker's process row was written and before
 * its wrapper was spawned (or before that row), and a second runtime on the same data dir and
 * database recovers. The lane's command appends a line to a file outside the data dir, so a
 * second run of it would show.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigSchema } from "../config";
import { commitFile, initRepo, makeTempDir } from "../git/git.testing";
import { createRuntime, type Runtime } from "../runtime";
import { openDatabase } from "../store/db";
import { testDatabaseUrl } from "../testing/test-database";
import { isTerminal, waitForLane } from "../testing/runtime-harness";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A data dir and repo where a child runtime died while starting one lane that appends to `runs`. */
async function cutStart(cut: "before-spawn" | "check-before-spawn" | "before-row", acceptance?: (runs: string) => { argv: string[] }[]) {
  const data = await makeTempDir("laneboard-cut-");
  const repo = await makeTempDir("laneboard-cut-repo-");
  const outside = await makeTempDir("laneboard-cut-runs-");
  cleanups.push(data.cleanup, repo.cleanup, outside.cleanup);
  await initRepo(repo.dir);
  await commitFile(repo.dir, "README.md", "x\n", "add readme");
  const runs = path.join(outside.dir, "runs");
  const argv = ["sh", "-c", `echo ran >> '${runs}'; echo hello`];
  const checks = acceptance ? [JSON.stringify(acceptance(path.join(outside.dir, "checks")))] : [];
  const child = await execa("node", ["--import", "tsx", "server/lanes/testdata/cut-start-child.ts", data.dir, repo.dir, cut, JSON.stringify(argv), ...checks], { cwd: process.cwd(), reject: false, stdin: "ignore" });
  expect(child.signal, child.stderr).toBe("SIGKILL");
  const databaseUrl = await testDatabaseUrl(data.dir);
  return { dataDir: data.dir, databaseUrl, runs, checks: path.join(outside.dir, "checks") };
}

/** What the database holds of the one lane, read without a runtime (nothing recovers). */
async function leftBehind(dataDir: string, databaseUrl: string | undefined) {
  const db = await openDatabase(dataDir, { databaseUrl });
  try {
    const [lane] = await db.lane.findMany();
    const processes = await db.process.findMany({ where: { laneId: lane!.id } });
    const workers = await db.worker.findMany({ where: { laneId: lane!.id } });
    return { lane: lane!, processes, workers };
  } finally {
    await db.$disconnect();
  }
}

async function boot(dataDir: string, databaseUrl: string | undefined): Promise<Runtime> {
  const rt = await createRuntime(ConfigSchema.parse({ dataDir, databaseUrl, demo: false, killGraceMs: 1000, workerCap: 4, killOnExit: true }));
  cleanups.push(() => rt.quit());
  return rt;
}

const runsOf = (file: string) => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
};

describe("a lane whose start a SIGKILL cut before its worker ran", () => {
  it("is started again once at the next boot when its process row was written but its wrapper never spawned", async () => {
    const { dataDir, databaseUrl, runs } = await cutStart("before-spawn");
    const before = await leftBehind(dataDir, databaseUrl);
    expect(before.lane).toMatchObject({ state: "starting", attempt: 1 });
    expect(before.processes.map((p) => [p.role, p.status, p.pid])).toEqual([["worker", "starting", null]]);
    const ghost = before.processes[0]!;
    // The exact crash window: the process directory is made (and the cgroup path written, where there is one), nothing of a
    // wrapper exists, not even its log files (the git helper that spawns it opens them).
    expect(readdirSync(path.join(dataDir, "processes", ghost.id)).filter((f) => f !== "cgroup").sort()).toEqual([]);
    expect(runsOf(runs)).toBe("");

    const rt = await boot(dataDir, databaseUrl);
    const lane = await waitForLane(rt, before.lane.id, isTerminal);
    expect([lane.state, lane.lastExitCode, lane.attempt]).toEqual(["finished", 0, 1]);
    expect(runsOf(runs)).toBe("ran\n"); // its command ran once

    const events = (await rt.events.listAfter(0, { laneId: lane.id, limit: 1000 })).events;
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === "lane.started")).toHaveLength(1);
    expect(types.filter((t) => t === "process.lost")).toEqual([]);
    expect(types.filter((t) => t === "process.exited")).toHaveLength(1);
    expect(events.some((e) => e.type === "warning" && (e.payload as { message: string }).message.includes(`process ${ghost.id} (worker) never ran`))).toBe(true);
    const after = await rt.db.process.findMany({ where: { laneId: lane.id }, orderBy: { createdAt: "asc" } });
    expect(after.map((p) => [p.id === ghost.id, p.status, p.exitCode])).toEqual([[true, "spawn_failed", null], [false, "exited", 0]]);
    // The same attempt and the same worker, now with the process that ran.
    const workers = await rt.db.worker.findMany({ where: { laneId: lane.id } });
    expect(workers.map((w) => [w.id, w.attempt, w.processId, w.state])).toEqual([[before.workers[0]!.id, 1, after[1]!.id, "finished"]]);
    expect((await rt.lanes.logs(lane.id, { limit: 10 })).lines.map((l) => l.text)).toEqual(["hello"]);
  });

  it("is started again once at the next boot when it was cut before its process row was written", async () => {
    const { dataDir, databaseUrl, runs } = await cutStart("before-row");
    const before = await leftBehind(dataDir, databaseUrl);
    expect(before.lane).toMatchObject({ state: "starting", attempt: 1 });
    expect(before.processes).toEqual([]);
    expect(before.workers.map((w) => [w.attempt, w.state, w.processId])).toEqual([[1, "spawning", null]]);

    const rt = await boot(dataDir, databaseUrl);
    const lane = await waitForLane(rt, before.lane.id, isTerminal);
    expect([lane.state, lane.lastExitCode, lane.attempt]).toEqual(["finished", 0, 1]);
    expect(runsOf(runs)).toBe("ran\n");
    const types = (await rt.events.listAfter(0, { laneId: lane.id, limit: 1000 })).events.map((e) => e.type);
    expect(types.filter((t) => t === "lane.started")).toHaveLength(1);
    expect((await rt.db.worker.findMany({ where: { laneId: lane.id } })).map((w) => w.id)).toEqual([before.workers[0]!.id]);
  });
});

describe("a lane whose check a SIGKILL cut before it ran", () => {
  it("runs that check once at the next boot and settles the lane, instead of leaving it checking", async () => {
    const { dataDir, databaseUrl, runs, checks } = await cutStart("check-before-spawn", (file) => [{ argv: ["sh", "-c", `echo checked >> '${file}'`] }]);
    const before = await leftBehind(dataDir, databaseUrl);
    expect(before.lane).toMatchObject({ state: "checking", attempt: 1 });
    expect(before.processes.map((p) => [p.role, p.status]).sort()).toEqual([["check", "starting"], ["worker", "exited"]]);
    const ghost = before.processes.find((p) => p.role === "check")!;
    expect(runsOf(runs)).toBe("ran\n");
    expect(runsOf(checks)).toBe("");

    const rt = await boot(dataDir, databaseUrl);
    const lane = await waitForLane(rt, before.lane.id, isTerminal);
    expect(lane.state).toBe("finished");
    expect(runsOf(checks)).toBe("checked\n"); // the check ran once, the worker not again
    expect(runsOf(runs)).toBe("ran\n");
    const events = (await rt.events.listAfter(0, { laneId: lane.id, limit: 1000 })).events;
    expect(events.filter((e) => e.type === "lane.green")).toHaveLength(1);
    expect(events.filter((e) => e.type === "check.started")).toHaveLength(1);
    expect(events.some((e) => e.type === "warning" && (e.payload as { message: string }).message.includes(`process ${ghost.id} (check) never ran`))).toBe(true);
    const after = await rt.db.process.findMany({ where: { laneId: lane.id, role: "check" }, orderBy: { createdAt: "asc" } });
    expect(after.map((p) => [p.id === ghost.id, p.status, p.exitCode])).toEqual([[true, "spawn_failed", null], [false, "exited", 0]]);
    const stored = await rt.db.lane.findUniqueOrThrow({ where: { id: lane.id } });
    expect((JSON.parse(stored.checks) as { status: string; processId: string }[]).map((r) => [r.status, r.processId])).toEqual([["green", after[1]!.id]]);
  }, 120_000); // a child runtime, then a boot that runs the check: 38 s at a load average of 27
});
