/**
 * The scheduler in the running runtime (real SQLite file, real git repos, real worker processes):
 * pool caps globally and per repo, changed at runtime; the background and check pools; priority →
 * deadline → age; fairness across repos. Every wait is on lane events.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nextEvent, startTestRuntime, waitForLane, type TestRuntime } from "../testing/runtime-harness";
import { addRepo, drainOneByOne, finish, gated, labels, openGate, running } from "./scheduler.testing";

describe("scheduler caps", () => {
  let h: TestRuntime;
  let second: Awaited<ReturnType<typeof addRepo>>;
  beforeEach(async () => {
    h = await startTestRuntime({ workerCap: 3 });
    second = await addRepo(h.rt);
  });
  afterEach(async () => {
    await h.close();
    await second.cleanup();
  });

  it("per-repo and global agent caps; lowering a cap stops new starts but never running work", async () => {
    const { rt } = h;
    await rt.scheduler.settings.setCaps({ perRepo: { agent: 1 } });
    const a1 = await rt.lanes.create(gated(h.repoId, "a1"));
    const a2 = await rt.lanes.create(gated(h.repoId, "a2"));
    const b1 = await rt.lanes.create(gated(second.repoId, "b1"));
    await running(rt, a1.id);
    await running(rt, b1.id);
    expect(await rt.lanes.get(a2.id)).toMatchObject({ state: "queued", queuePosition: 1, waitingFor: { kind: "cap", pool: "agent", scope: "repo" } });

    const lowered = await rt.scheduler.settings.setCaps({ global: { agent: 1 }, perRepo: { agent: null } });
    expect(lowered.caps.global.agent).toBe(1);
    expect(lowered.running.global.agent).toBe(2); // over the new cap: nothing was stopped
    expect((await rt.lanes.get(a1.id)).state).toBe("running");
    expect((await rt.lanes.get(b1.id)).state).toBe("running");
    expect((await rt.lanes.get(a2.id)).waitingFor).toEqual({ kind: "cap", pool: "agent", scope: "global" });

    await finish(rt, a1.id);
    await rt.scheduler.kick();
    expect((await rt.lanes.get(a2.id)).state).toBe("queued"); // b1 still holds the only slot

    await rt.scheduler.settings.setCaps({ global: { agent: 2 } });
    await running(rt, a2.id);
    const { events } = await rt.events.listAfter(0, { limit: 5000 });
    const decisions = events.filter((e) => e.type === "scheduler.decision").map((e) => e.payload.kind);
    expect(decisions.filter((k) => k === "caps_changed")).toHaveLength(3);
    expect(decisions.filter((k) => k === "dispatched")).toHaveLength(3);
  });

  it("background lanes have their own pool: they never take agent slots, and wait on their own cap", async () => {
    const { rt } = h;
    await rt.scheduler.settings.setCaps({ global: { agent: 1, background: 1 } });
    const bg1 = await rt.lanes.create(gated(h.repoId, "bg1", { pool: "background" }));
    const bg2 = await rt.lanes.create(gated(h.repoId, "bg2", { pool: "background" }));
    const ag = await rt.lanes.create(gated(h.repoId, "ag"));
    await running(rt, bg1.id);
    await running(rt, ag.id);
    expect(await rt.lanes.get(bg2.id)).toMatchObject({ state: "queued", waitingFor: { kind: "cap", pool: "background", scope: "global" } });
    expect(rt.scheduler.settings.caps()).toMatchObject({ running: { global: { agent: 1, background: 1, check: 0 } }, queued: { background: 1, agent: 0 } });
    await finish(rt, bg1.id);
    await running(rt, bg2.id);
  });

  it("the check pool gates non-lane work through acquire(), per repo and globally", async () => {
    const { rt } = h;
    await rt.scheduler.settings.setCaps({ global: { check: 2 }, perRepo: { check: 1 } });
    const granted: string[] = [];
    const take = (name: string, repoId: string) => rt.scheduler.acquire("check", { repoId }).then((release) => (granted.push(name), release));
    const r1 = await take("a1", h.repoId);
    const a2 = take("a2", h.repoId);
    const r3 = await take("b1", second.repoId); // another repo's slot is free
    expect(granted).toEqual(["a1", "b1"]);
    expect((await rt.scheduler.settings.caps()).running.perRepo[h.repoId]).toMatchObject({ check: 1 });
    r3();
    await rt.scheduler.kick();
    expect(granted).toEqual(["a1", "b1"]); // a2 still waits for its repo's slot
    r1();
    (await a2)();
    expect(granted).toEqual(["a1", "b1", "a2"]);
  });

  it("acceptance checks run in the check pool: beyond its cap a lane's check waits for a slot", async () => {
    const { rt } = h;
    await rt.scheduler.settings.setCaps({ global: { check: 1 } });
    // The check waits for `.checkgate` in the worktree, so the test decides when it ends.
    const acceptance = [{ level: "targeted" as const, argv: ["sh", "-c", "until [ -e .checkgate ]; do sleep 0.02; done"] }];
    const one = await rt.lanes.create(gated(h.repoId, "check-1", { acceptance }));
    const two = await rt.lanes.create(gated(second.repoId, "check-2", { acceptance }));
    await running(rt, one.id);
    await running(rt, two.id);
    await openGate(rt, one.id);
    await waitForLane(rt, one.id, (l) => l.checks.targeted?.status === "running");
    await openGate(rt, two.id);
    await waitForLane(rt, two.id, (l) => l.state === "checking");
    // The lane shows `checking` as soon as it moves there; its check asks for a slot just after,
    // and nothing is emitted while it waits, so the queue is polled until the request is in it.
    await vi.waitFor(() => expect(rt.scheduler.settings.caps()).toMatchObject({ running: { global: { check: 1, agent: 0 } }, queued: { check: 1 } }), { timeout: 30_000 });
    expect((await rt.lanes.get(two.id)).checks.targeted).toBeUndefined(); // not started: no slot
    const started = nextEvent(rt, "check.started", two.id);
    await fs.writeFile(path.join(one.worktreePath, ".checkgate"), "");
    await waitForLane(rt, one.id, (l) => l.state === "finished");
    await started;
    await fs.writeFile(path.join(two.worktreePath, ".checkgate"), "");
    await waitForLane(rt, two.id, (l) => l.state === "finished");
    await rt.scheduler.idle();
    expect((await rt.scheduler.settings.caps()).running.global.check).toBe(0);
  });

  it("orders by priority, then deadline (earliest first, none last), then age", async () => {
    const { rt } = h;
    await rt.scheduler.settings.setCaps({ global: { agent: 0 } }); // hold everything while queueing
    const hour = 3_600_000;
    const now = Date.now();
    await rt.lanes.create(gated(h.repoId, "old-low"));
    await rt.lanes.create(gated(h.repoId, "high-no-deadline", { priority: 5 }));
    await rt.lanes.create(gated(h.repoId, "high-late", { priority: 5, deadline: new Date(now + 2 * hour).toISOString() }));
    await rt.lanes.create(gated(h.repoId, "high-early", { priority: 5, deadline: now + hour }));
    await rt.lanes.create(gated(h.repoId, "young-low"));
    await rt.lanes.create(gated(h.repoId, "urgent", { priority: 100 }));
    const queue = await rt.scheduler.settings.queue({});
    const expected = ["urgent", "high-early", "high-late", "high-no-deadline", "old-low", "young-low"];
    expect(await labels(rt, queue.entries.map((e) => e.laneId))).toEqual(expected);
    expect(queue.entries.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(queue.entries[0]!.waitingFor).toEqual({ kind: "cap", pool: "agent", scope: "global" });

    expect(await labels(rt, await drainOneByOne(rt, 6, () => rt.scheduler.settings.setCaps({ global: { agent: 1 } })))).toEqual(expected);
  });

  it("is fair across repos: one repo's long queue does not hold another repo's single lane", async () => {
    const { rt } = h;
    await rt.scheduler.settings.setCaps({ global: { agent: 0 } });
    for (let i = 1; i <= 6; i++) await rt.lanes.create(gated(h.repoId, `busy-${i}`));
    const lone = await rt.lanes.create(gated(second.repoId, "lone"));
    expect((await rt.lanes.get(lone.id)).queuePosition).toBeLessThanOrEqual(2);
    const order = await labels(rt, await drainOneByOne(rt, 7, () => rt.scheduler.settings.setCaps({ global: { agent: 1 } })));
    expect(order.indexOf("lone")).toBeLessThanOrEqual(1);
    expect(order.filter((l) => l.startsWith("busy"))).toEqual(["busy-1", "busy-2", "busy-3", "busy-4", "busy-5", "busy-6"]);
    const last = await waitForLane(rt, lone.id, (l) => l.state === "finished");
    expect(last.schedule).toMatchObject({ pool: "agent", priority: 0, dependsOn: [] });
  });
});
