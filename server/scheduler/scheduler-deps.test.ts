/**
 * Dependencies in the running runtime: fan-out/fan-in through the lane API (`parentId`, a join
 * lane with `dependsOn`), `wait_all` and `wait_any`, artifacts (a commit, a file), cycle
 * rejection with the cycle named, and failure propagation (dependants blocked with the reason,
 * visible in the view and as `lane.blocked`). Real processes; waits are on lane events.
 */
import { describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { nextEvent, waitForLane } from "../testing/runtime-harness";
import { addRepo, finish, gated, openGate, running, runToSuccess, settled, useSchedulerRuntime } from "./scheduler.testing";


describe("scheduler dependencies", () => {
  const h = useSchedulerRuntime();

  it("fan-out/fan-in: children of a parent run, the wait_all join starts when all succeed", async () => {
    const { rt } = h;
    const parent = await rt.lanes.create(gated(h.repoId, "parent"));
    const c1 = await rt.lanes.create(gated(h.repoId, "child-1", { parentId: parent.id }));
    const c2 = await rt.lanes.create(gated(h.repoId, "child-2", { parentId: parent.id }));
    const join = await rt.lanes.create(gated(h.repoId, "join", { parentId: parent.id, dependsOn: [c1.id, c2.id], mode: "wait_all" }));
    expect(join).toMatchObject({ state: "queued", queuePosition: null, waitingFor: { kind: "dependency", laneIds: [c1.id, c2.id] } });
    expect(join.schedule).toMatchObject({ parentId: parent.id, dependsOn: [c1.id, c2.id], mode: "wait_all" });
    await running(rt, c1.id);
    await running(rt, c2.id);
    await finish(rt, c1.id);
    expect((await rt.lanes.get(join.id)).waitingFor).toEqual({ kind: "dependency", laneIds: [c2.id] });
    await finish(rt, c2.id);
    await runToSuccess(rt, join.id);
    await finish(rt, parent.id);
  });

  it("wait_any: a failed dependency does not block while another can still succeed; the first success releases the join", async () => {
    const { rt } = h;
    const x = await rt.lanes.create(gated(h.repoId, "x"));
    const y = await rt.lanes.create(gated(h.repoId, "y"));
    const any = await rt.lanes.create(gated(h.repoId, "any", { dependsOn: [x.id, y.id], mode: "wait_any" }));
    await running(rt, x.id);
    await rt.lanes.kill(x.id, { graceMs: 200 });
    await settled(rt, x.id);
    expect(await rt.lanes.get(any.id)).toMatchObject({ state: "queued", waitingFor: { kind: "dependency", laneIds: [y.id] } });
    await runToSuccess(rt, y.id, any.id);
  });

  it("a failed dependency blocks its dependants (transitively) with the reason, on the view and as lane.blocked; restarting it unblocks them", async () => {
    const { rt } = h;
    const build = await rt.lanes.create(gated(h.repoId, "build"));
    const deploy = await rt.lanes.create(gated(h.repoId, "deploy", { dependsOn: [build.id] }));
    const announce = await rt.lanes.create(gated(h.repoId, "announce", { dependsOn: [deploy.id] }));
    await running(rt, build.id);
    const blocked = nextEvent(rt, "lane.blocked", announce.id);
    await rt.lanes.kill(build.id, { graceMs: 200 });
    await settled(rt, build.id);
    expect((await blocked).payload).toEqual({ dependency: deploy.id, reason: `dependency ${deploy.id} is blocked (dependency ${build.id} failed: killed by api)` });
    const d = await rt.lanes.get(deploy.id);
    expect(d).toMatchObject({ state: "queued", queuePosition: null, waitingFor: { kind: "dependency", laneIds: [build.id], blockedBy: { laneId: build.id, reason: `dependency ${build.id} failed: killed by api` } } });
    const { events } = await rt.events.listAfter(0, { laneId: deploy.id });
    expect(events.filter((e) => e.type === "lane.blocked").map((e) => e.payload)).toEqual([expect.objectContaining({ dependency: build.id })]);

    await rt.lanes.restart(build.id);
    await running(rt, build.id);
    expect((await rt.lanes.get(deploy.id)).waitingFor).toEqual({ kind: "dependency", laneIds: [build.id] });
    expect((await rt.lanes.get(announce.id)).waitingFor).toEqual({ kind: "dependency", laneIds: [deploy.id] });
    await finish(rt, build.id);
    await runToSuccess(rt, deploy.id, announce.id);
  });

  it("a worker failure that survives recovery blocks the dependants with the failure's class and reason", async () => {
    const { rt } = h;
    const build = await rt.lanes.create(gated(h.repoId, "flaky-build"));
    const deploy = await rt.lanes.create(gated(h.repoId, "flaky-deploy", { dependsOn: [build.id] }));
    await running(rt, build.id);
    // Exit 3 fails the worker; recovery restarts it once (same worktree, so the gate is still
    // open and it fails again), then escalates: that failure is final.
    const escalated = nextEvent(rt, "lane.escalated", build.id, 80_000); // two runs and recovery's decisions: slow on a loaded machine
    await openGate(rt, build.id, 3);
    await escalated;
    await settled(rt, build.id);
    const d = await rt.lanes.get(deploy.id);
    expect(d.state).toBe("queued");
    expect(d.waitingFor).toMatchObject({ kind: "dependency", blockedBy: { laneId: build.id, reason: expect.stringMatching(new RegExp(`^dependency ${build.id} failed: \\w+: `)) } });
  }, 120_000);

  it("artifact dependencies: a file or a commit on the dependency's branch is required", async () => {
    const { rt } = h;
    const maker = await rt.lanes.create(gated(h.repoId, "maker", { commit: true }));
    const idle = await rt.lanes.create(gated(h.repoId, "idle"));
    const wantsFile = await rt.lanes.create(gated(h.repoId, "wants-file", { dependsOn: [maker.id], artifact: { kind: "file", path: "out.txt" } }));
    const wantsCommit = await rt.lanes.create(gated(h.repoId, "wants-commit", { dependsOn: [idle.id], artifact: { kind: "commit" } }));
    await running(rt, maker.id);
    await running(rt, idle.id);
    await finish(rt, maker.id);
    await running(rt, wantsFile.id);
    const blocked = nextEvent(rt, "lane.blocked", wantsCommit.id);
    await finish(rt, idle.id);
    expect((await blocked).payload.reason).toBe(`dependency ${idle.id} succeeded without a commit`);
    await finish(rt, wantsFile.id);
    await rt.lanes.kill(wantsCommit.id);
  });

  it("cycles and self-dependencies are rejected with the cycle named, and nothing changes", async () => {
    const { rt } = h;
    await rt.scheduler.settings.setCaps({ global: { agent: 0 } });
    const a = await rt.lanes.create(gated(h.repoId, "a"));
    const b = await rt.lanes.create(gated(h.repoId, "b", { dependsOn: [a.id] }));
    const c = await rt.lanes.create(gated(h.repoId, "c", { dependsOn: [b.id] }));
    const before = rt.scheduler.settings.queue({});
    const cycle = await rt.lanes.reschedule(a.id, { dependsOn: [c.id] }).catch((e: unknown) => e);
    expect(isAppError(cycle) && cycle.code).toBe("invalid_input");
    expect((cycle as Error).message).toBe(`dependsOn: would create a cycle: ${a.id} → ${c.id} → ${b.id} → ${a.id}`);
    const self = await rt.lanes.reschedule(b.id, { dependsOn: [b.id] }).catch((e: unknown) => e);
    expect(isAppError(self) && self.details?.fields).toEqual(["dependsOn.0"]);
    expect(rt.scheduler.settings.queue({})).toEqual(before);
    expect((await rt.lanes.get(a.id)).schedule?.dependsOn).toEqual([]);
    // A legal change is applied: c now waits for a directly, with a higher priority.
    const changed = await rt.lanes.reschedule(c.id, { dependsOn: [a.id], priority: 7 });
    expect(changed).toMatchObject({ waitingFor: { kind: "dependency", laneIds: [a.id] }, schedule: { dependsOn: [a.id], priority: 7 } });
    // Killing a queued dependency fails it for its dependants.
    const blocked = nextEvent(rt, "lane.blocked", c.id);
    await rt.lanes.kill(a.id);
    expect((await blocked).payload.reason).toBe(`dependency ${a.id} failed: killed by api`);
    for (const l of [b, c]) await rt.lanes.kill(l.id);
  });

  it("dependencies must be lanes of the same repo that exist", async () => {
    const { rt } = h;
    const other = await addRepo(rt);
    try {
      const foreign = await rt.lanes.create(gated(other.repoId, "foreign"));
      const count = (await rt.lanes.list()).length;
      for (const [deps, message] of [
        [[foreign.id], `dependsOn.0: lane ${foreign.id} belongs to another repo`],
        [["no-such-lane"], "dependsOn.0: no lane no-such-lane"],
      ] as const) {
        const err = await rt.lanes.create(gated(h.repoId, "bad", { dependsOn: [...deps] })).catch((e: unknown) => e);
        expect(isAppError(err) && err.code).toBe("invalid_input");
        expect((err as Error).message).toContain(message);
      }
      expect((await rt.lanes.list()).length).toBe(count);
      await waitForLane(rt, foreign.id, (l) => l.state === "running");
      await finish(rt, foreign.id);
    } finally {
      await other.cleanup();
    }
  });
});
