/**
 * Lane lifecycle on real parts: a real SQLite file, a real git repo and worktrees, real
 * process groups. Every wait is on lane events, never a sleep.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { git } from "../git/git";
import { groupMembers } from "../processes/procfs";
import { isTerminal, runtimePerTest, shellPacket, waitForLane, waitForOutput } from "../testing/runtime-harness";
import { onPostgres } from "../testing/test-database";
import { waitForEvent } from "../workers/worker.testing";

const SH = (script: string) => ["sh", "-c", script];
const COMMIT = "git -c user.name=t -c user.email=t@t.invalid commit -qm";

describe("lanes", () => {
  const h = runtimePerTest({ workerCap: 2 });

  it("runs the worker in a new worktree on a new branch, detects its commit, and goes green", async () => {
    const lane = await h.rt.lanes.create(
      shellPacket(h.repoId, SH(`echo hello > out.txt && git add out.txt && ${COMMIT} "add out" && echo worker-done`), {
        acceptance: [{ level: "targeted", argv: ["test", "-f", "out.txt"] }],
      }),
    );
    expect(lane.worktreePath.startsWith(path.join(h.dataDir, "worktrees"))).toBe(true);
    const done = await waitForLane(h.rt, lane.id, isTerminal);
    expect(done.state).toBe("finished");
    expect(done.lastExitCode).toBe(0);
    expect(done.checks.targeted).toMatchObject({ status: "green", exitCode: 0, command: ["test", "-f", "out.txt"] });
    // A real worktree on the lane's branch, one commit ahead of main.
    expect((await git(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: lane.worktreePath })).stdout).toBe(lane.branch);
    await h.rt.freshness.refresh(lane.id);
    const fresh = await h.rt.lanes.get(lane.id);
    expect([fresh.ahead, fresh.behind]).toEqual([1, 0]);
    const { events } = await h.rt.events.listAfter(0, { laneId: lane.id, limit: 500 });
    const types = events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["lane.created", "lane.queued", "lane.started", "lane.commit.created", "lane.green", "lane.finished"]));
    expect(types.indexOf("lane.started")).toBeLessThan(types.indexOf("lane.finished"));
    const logs = await h.rt.lanes.logs(lane.id, { limit: 100 });
    expect(logs.lines.map((l) => l.text)).toContain("worker-done");
  });

  it("a base branch named with characters git allows but a shell would not (release;v2$x) works end to end", async () => {
    const base = "release;v2$x";
    await git(["branch", "--end-of-options", base, "main"], { cwd: h.repoPath });
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH("echo based"), { baseBranch: base }));
    const done = await waitForLane(h.rt, lane.id, isTerminal);
    expect(done.state).toBe("finished");
    expect(done.baseBranch).toBe(base);
    await h.rt.freshness.refresh(lane.id);
    expect((await h.rt.lanes.get(lane.id)).behind).toBe(0);
    // Names git itself refuses are still refused, before git or a shell sees them.
    for (const bad of ["-x", "a..b", "a b", "a~1", "@", "x.lock", ".hidden/x"]) {
      await expect(h.rt.lanes.create(shellPacket(h.repoId, SH("true"), { baseBranch: bad }))).rejects.toMatchObject({ code: "invalid_input" });
    }
  });

  it("a failing acceptance check makes the lane red at that level and failed", async () => {
    const lane = await h.rt.lanes.create(
      shellPacket(h.repoId, ["true"], { acceptance: [{ level: "targeted", argv: SH("echo 'not ok 1 - adds' >&2; exit 3") }] }),
    );
    const done = await waitForLane(h.rt, lane.id, isTerminal);
    expect(done.state).toBe("failed");
    expect(done.checks.targeted).toMatchObject({ status: "red", exitCode: 3 });
    const { events } = await h.rt.events.listAfter(0, { laneId: lane.id });
    expect(events.find((e) => e.type === "lane.red")?.payload).toMatchObject({ level: "targeted", exitCode: 3, failureClass: "test" });
  });

  it("a worker that exits non-zero fails the lane with its exit code", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH("echo boom >&2; exit 7")));
    const done = await waitForLane(h.rt, lane.id, isTerminal);
    expect(done).toMatchObject({ state: "failed", lastExitCode: 7 });
    const logs = await h.rt.lanes.logs(lane.id, { limit: 10 });
    expect(logs.lines.find((l) => l.text === "boom")?.stream).toBe("stderr");
  });

  it("lanes beyond the worker cap queue and start oldest first as slots free up", async () => {
    // On a shared PostgreSQL database --worker-cap bounds only this node; the queue the positions
    // come from is the cluster's, whose agent cap is set through the API (docs/scale-out.md).
    if (onPostgres()) await h.rt.scheduler.settings.setCaps({ global: { agent: 2 } });
    const a = await h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "60"]));
    const b = await h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "60"]));
    const c = await h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "60"]));
    const d = await h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "60"]));
    await waitForLane(h.rt, a.id, (l) => l.state === "running");
    await waitForLane(h.rt, b.id, (l) => l.state === "running");
    expect(await h.rt.lanes.get(c.id)).toMatchObject({ state: "queued", queuePosition: 1 });
    expect(await h.rt.lanes.get(d.id)).toMatchObject({ state: "queued", queuePosition: 2 });
    await h.rt.lanes.kill(a.id, { graceMs: 200 });
    await waitForLane(h.rt, c.id, (l) => l.state === "running");
    expect(await h.rt.lanes.get(d.id)).toMatchObject({ state: "queued", queuePosition: 1 });
  });

  it("kill takes down the whole process group, grandchildren included; restart runs again in the same worktree", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH("sh -c 'sleep 120' & sleep 120 & echo started; wait")));
    const running = await waitForLane(h.rt, lane.id, (l) => l.state === "running");
    const proc = await h.rt.supervisor.get(running.currentProcessId!);
    await waitForOutput(h.rt, lane.id, "started");
    expect(groupMembers(proc.pgid!).length).toBeGreaterThanOrEqual(4); // wrapper, sh, sh -c, sleeps
    const killed = await h.rt.lanes.kill(lane.id, { graceMs: 500 });
    expect(killed.state).toBe("killed");
    expect(groupMembers(proc.pgid!)).toEqual([]);

    const restarted = await h.rt.lanes.restart(lane.id);
    expect(["queued", "starting", "running"]).toContain(restarted.state);
    const again = await waitForLane(h.rt, lane.id, (l) => l.state === "running" && l.attempt === killed.attempt + 1);
    expect(again.currentProcessId).not.toBe(running.currentProcessId);
    expect(again.worktreePath).toBe(running.worktreePath);
    // The row says running before `lane.started` is stored (PostgreSQL's CI run read it too early).
    await waitForEvent(h.rt, lane.id, "lane.started", (p) => p.attempt === again.attempt);
    const { events } = await h.rt.events.listAfter(0, { laneId: lane.id, limit: 500 });
    expect(events.filter((e) => e.type === "lane.started")).toHaveLength(2);
    expect(events.some((e) => e.type === "lane.killed")).toBe(true);
  });

  it("rejects bad packets with typed errors and leaves no branch or worktree behind", async () => {
    const before = (await git(["branch", "--list"], { cwd: h.repoPath })).stdout;
    const marker = path.join(h.dataDir, "pwned");
    const bad = [
      [{ branch: "-x" }, "invalid_input"],
      [{ branch: "lane/../x" }, "invalid_input"],
      [{ branch: `lane/$(touch ${marker})` }, "invalid_input"],
      [{ objective: "   " }, "invalid_input"],
      [{ worker: { engine: "shell" } }, "invalid_input"],
      [{ repo: "/no/such/repo" }, "not_found"],
      [{ baseBranch: "does-not-exist" }, "not_found"],
      [{ branch: "main" }, "branch_exists"],
    ] as const;
    for (const [patch, code] of bad) {
      await expect(h.rt.lanes.create({ ...shellPacket(h.repoId, ["true"]), ...patch })).rejects.toMatchObject({ code });
    }
    expect((await git(["branch", "--list"], { cwd: h.repoPath })).stdout).toBe(before);
    await expect(fs.access(marker)).rejects.toThrow();
    expect(await h.rt.lanes.list()).toEqual([]);
    await expect(h.rt.lanes.kill("nope")).rejects.toMatchObject({ code: "not_found" });
  });

  it("killing a lane that is not running is a conflict and changes nothing", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    const done = await waitForLane(h.rt, lane.id, isTerminal);
    await expect(h.rt.lanes.kill(lane.id)).rejects.toMatchObject({ code: "not_running" });
    expect(await h.rt.lanes.get(lane.id)).toMatchObject({ state: done.state, attempt: done.attempt });
  });
});
