import { describe, expect, it } from "vitest";
import { httpStatusFor, isAppError } from "@/lib/errors";
import { parseLaneEventPayload } from "@/lib/lane-events";
import { SchedulerCore, toLaneEvent, type LaneSubmission, type SchedulerEvent } from "./scheduler-core";

const NOW = Date.UTC(2026, 10, 3, 9, 0, 0);
const lane = (laneId: string, repoId = "r", scheduling: LaneSubmission["scheduling"] = {}, engine: string | null = "claude"): LaneSubmission => ({ laneId, repoId, engine, scheduling });
const types = (events: SchedulerEvent[]) => events.map((e) => `${e.type}:${e.laneId}`);

function core(): SchedulerCore {
  return new SchedulerCore({ caps: { global: { agent: 2, check: 1, background: 1 }, perRepo: { agent: null, check: null, background: null }, repos: {} } });
}

describe("SchedulerCore – bad input", () => {
  const cases: Array<[string, (c: SchedulerCore) => unknown, string]> = [
    ["a negative cap", (c) => c.setCaps({ global: { agent: -1 } }), "global.agent"],
    ["a priority outside range", (c) => c.submit(lane("x", "r", { priority: 5000 }), NOW), "priority"],
    ["a deadline in the past", (c) => c.submit(lane("x", "r", { deadline: NOW - 1 }), NOW), "deadline"],
    ["a deadline in the past (ISO)", (c) => c.submit(lane("x", "r", { deadline: "2020-01-01T00:00:00Z" }), NOW), "deadline"],
    ["a dependency on a lane of another repo that does not exist", (c) => c.submit(lane("x", "r", { dependsOn: ["a", "other-repo-ghost"] }), NOW), "dependsOn.1"],
    ["a self-dependency", (c) => c.submit(lane("x", "r", { dependsOn: ["x"] }), NOW), "dependsOn.0"],
    ["a budget of NaN", (c) => c.submit(lane("x", "r", { budget: { maxTokens: Number.NaN } }), NOW), "budget.maxTokens"],
    ["an unknown pool", (c) => c.submit(lane("x", "r", { pool: "gpu" as never }), NOW), "pool"],
    ["an empty lane id", (c) => c.submit(lane("", "r"), NOW), "laneId"],
    ["a lane twice in one batch", (c) => c.submitBatch([lane("x"), lane("x")], NOW), "[0].laneId"],
    ["a parent that does not exist", (c) => c.submit(lane("x", "r", { parentId: "ghost" }), NOW), "parentId"],
    ["a second lane of a batch with a bad priority", (c) => c.submitBatch([lane("x"), lane("y", "r", { priority: 1.5 })], NOW), "[1].priority"],
  ];
  for (const [name, call, field] of cases) {
    it(`${name} → 4xx naming ${field}, queue unchanged`, () => {
      const c = core();
      c.submit(lane("a"), NOW);
      c.submit(lane("b", "r", { priority: 3 }), NOW);
      const before = JSON.stringify(c.snapshot());
      let err: unknown;
      try {
        call(c);
      } catch (e) {
        err = e;
      }
      expect(isAppError(err)).toBe(true);
      if (!isAppError(err)) return;
      expect(httpStatusFor(err.code)).toBeGreaterThanOrEqual(400);
      expect(httpStatusFor(err.code)).toBeLessThan(500);
      expect(err.details?.fields).toContain(field);
      expect(err.message).toContain(field);
      expect(JSON.stringify(c.snapshot())).toBe(before);
    });
  }
});

describe("SchedulerCore – dispatch, dependencies, budgets", () => {
  it("fan-out/fan-in through the API: children run, the join starts after all succeed", () => {
    const c = core();
    c.submit(lane("parent"), NOW);
    expect(c.dispatch(NOW).starts.map((s) => s.laneId)).toEqual(["parent"]);
    const events = c.submitBatch(
      [lane("c1", "r", { parentId: "parent" }), lane("c2", "r", { parentId: "parent" }), lane("join", "r", { parentId: "parent", dependsOn: ["c1", "c2"], mode: "wait_all" })],
      NOW,
    );
    expect(events.find((e) => e.laneId === "join")).toMatchObject({ waitingFor: { kind: "dependency", laneIds: ["c1", "c2"] }, position: null });
    expect(c.explain("join", NOW)!.waitingFor).toEqual({ kind: "dependency", laneIds: ["c1", "c2"] });
    c.settled("parent", "succeeded");
    expect(c.dispatch(NOW).starts.map((s) => s.laneId)).toEqual(["c1", "c2"]);
    expect(c.settled("c1", "succeeded")).toEqual([]);
    expect(types(c.settled("c2", "succeeded"))).toEqual(["scheduler.released:join"]);
    expect(c.dispatch(NOW).starts.map((s) => s.laneId)).toEqual(["join"]);
  });

  it("when a dependency fails its dependants are blocked with the reason, visible in explain and as lane events", () => {
    const c = core();
    c.submit(lane("build"), NOW);
    c.submit(lane("deploy", "r", { dependsOn: ["build"] }), NOW);
    c.submit(lane("announce", "q", { dependsOn: ["deploy"] }), NOW);
    c.dispatch(NOW);
    const events = c.settled("build", "failed", { reason: "tests red" });
    expect(types(events)).toEqual(["scheduler.blocked:deploy", "scheduler.blocked:announce"]);
    expect(c.explain("deploy", NOW)!.waitingFor).toEqual({ kind: "dependency", laneIds: ["build"], blockedBy: { laneId: "build", reason: "dependency build failed: tests red" } });
    const ev = toLaneEvent(events[0]!);
    expect(ev).toMatchObject({ type: "lane.blocked", laneId: "deploy", payload: { reason: "dependency build failed: tests red" } });
    expect(() => parseLaneEventPayload(ev.type, ev.payload)).not.toThrow();
    expect(c.dispatch(NOW).starts).toEqual([]);
    // Restarting the failed lane unblocks the chain.
    const re = c.requeue({ laneId: "build", repoId: "r", engine: "claude" }, NOW + 1);
    expect(types(re)).toEqual(["scheduler.queued:build", "scheduler.waiting:deploy", "scheduler.waiting:announce"]);
    expect(c.dispatch(NOW + 1).starts.map((s) => s.laneId)).toEqual(["build"]);
  });

  it("a lane whose budget is spent is refused at pre-flight and stopped mid-run with budget_exceeded", () => {
    const c = core();
    c.submit(lane("runner", "r", { budget: { maxTokens: 1000 } }), NOW);
    c.submit(lane("broke", "r", { budget: { maxTokens: 0 }, priority: 10 }), NOW);
    const { starts, events } = c.dispatch(NOW);
    expect(starts.map((s) => s.laneId)).toEqual(["runner"]);
    expect(events[0]).toMatchObject({ type: "scheduler.waiting", laneId: "broke", waitingFor: { kind: "budget", scope: "lane", limit: 0 } });
    expect(c.recordUsage("runner", { inputTokens: 500 }, NOW)).toEqual([]);
    const stop = c.recordUsage("runner", { outputTokens: 600 }, NOW);
    expect(stop).toEqual([{ type: "scheduler.budget_exceeded", laneId: "runner", repoId: "r", breach: { scope: "lane", key: "runner", metric: "tokens", spent: 1100, limit: 1000 } }]);
    expect(toLaneEvent(stop[0]!)).toMatchObject({ type: "scheduler.decision", payload: { kind: "budget_exceeded", scope: "lane", spent: 1100 } });
    expect(c.recordUsage("runner", { outputTokens: 1 }, NOW)).toEqual([]); // reported once
    // Raising the refused lane's budget releases it.
    expect(types(c.setLaneBudget("broke", { maxTokens: 10 }))).toEqual(["scheduler.released:broke"]);
    c.settled("runner", "failed", { reason: "budget_exceeded" });
    expect(c.dispatch(NOW).starts.map((s) => s.laneId)).toEqual(["broke"]);
  });

  it("a child's usage stops the running parent when the parent's budget is spent (roll-up)", () => {
    const c = core();
    c.submit(lane("parent", "r", { budget: { maxCostUsd: 1 } }), NOW);
    c.dispatch(NOW);
    c.submit(lane("child", "r", { parentId: "parent" }), NOW);
    c.dispatch(NOW);
    const stop = c.recordUsage("child", { costUsd: 1 }, NOW);
    expect(stop.map((e) => e.laneId).sort()).toEqual(["child", "parent"]);
  });

  it("a rate-limited engine holds only its own lanes", () => {
    const c = core();
    c.limiter.configure("claude", { requestsPerMinute: 1, burst: 1 }, NOW);
    c.submit(lane("c1", "r", {}, "claude"), NOW);
    c.submit(lane("c2", "r", {}, "claude"), NOW);
    c.submit(lane("x1", "r", {}, "codex"), NOW);
    expect(c.dispatch(NOW).starts.map((s) => s.laneId)).toEqual(["c1", "x1"]);
    c.settled("x1", "succeeded");
    expect(c.explain("c2", NOW)!.waitingFor).toEqual({ kind: "rate_limit", engine: "claude", retryAt: NOW + 60_000 });
    expect(c.dispatch(NOW + 59_999).starts).toEqual([]);
    expect(c.dispatch(NOW + 60_000).starts.map((s) => s.laneId)).toEqual(["c2"]);
  });
});

describe("SchedulerCore – runtime integration", () => {
  it("redepend: replaces a queued lane's dependencies, rejects a cycle naming it and changes nothing", () => {
    const c = core();
    c.setCaps({ global: { agent: 0 } });
    c.submit(lane("a"), NOW);
    c.submit(lane("b", "r", { dependsOn: ["a"] }), NOW);
    c.submit(lane("c", "r", { dependsOn: ["b"] }), NOW);
    const before = JSON.stringify(c.snapshot());
    expect(() => c.redepend("a", { dependsOn: ["c"] }, NOW)).toThrow("dependsOn: would create a cycle: a → c → b → a");
    expect(() => c.redepend("a", { dependsOn: ["a"] }, NOW)).toThrow("dependsOn.0: a lane cannot depend on itself (a)");
    expect(JSON.stringify(c.snapshot())).toBe(before);
    const events = c.redepend("c", { dependsOn: ["a"], mode: "wait_any" }, NOW);
    expect(events[0]).toMatchObject({ type: "scheduler.queued", laneId: "c", waitingFor: { kind: "dependency", laneIds: ["a"] } });
    expect(c.graph.dependencies("c")).toEqual(["a"]);
    expect(c.graph.mode("c")).toBe("wait_any");
    c.redepend("c", { dependsOn: [] }, NOW);
    expect(c.explain("c", NOW)).toMatchObject({ waitingFor: { kind: "cap", scope: "global" }, position: 2 });
  });

  it("a lane held by its spent budget is reported even when the pass starts nothing", () => {
    const c = core();
    c.submit(lane("broke", "r", { budget: { maxTokens: 0 } }), NOW);
    const { starts, events } = c.dispatch(NOW);
    expect(starts).toEqual([]);
    expect(events).toEqual([{ type: "scheduler.waiting", laneId: "broke", repoId: "r", waitingFor: { kind: "budget", scope: "lane", key: "broke", metric: "tokens", spent: 0, limit: 0 } }]);
    expect(c.dispatch(NOW).events).toEqual([]); // reported once
  });

  it("reinsert puts back a lane that could not start, with its age and seq", () => {
    const c = core();
    c.submit(lane("x"), NOW);
    c.submit(lane("y"), NOW + 1);
    const [x] = c.dispatch(NOW, 1).starts;
    c.capacity.finished(x!.laneId);
    c.queue.reinsert(x!);
    expect(c.queue.get("x")).toMatchObject({ seq: x!.seq, enqueuedAt: NOW });
    expect(c.dispatch(NOW).starts.map((s) => s.laneId)).toEqual(["x", "y"]);
  });
});

describe("SchedulerCore – durability", () => {
  it("after a restart the queue is the same: same order, nothing started twice, nothing lost", () => {
    const build = () => {
      const c = core();
      c.setCaps({ global: { agent: 3 }, perRepo: { agent: 2 } });
      for (let i = 0; i < 30; i++) c.submit(lane(`l${i}`, `repo${i % 4}`, { priority: i % 3, dependsOn: i >= 25 ? [`l${i - 20}`] : [] }, i % 2 ? "claude" : "codex"), NOW + i);
      c.dispatch(NOW + 100);
      return c;
    };
    const live = build();
    const running = live.capacity.runningIds();
    expect(running).toHaveLength(3);
    const restored = SchedulerCore.restore(JSON.parse(JSON.stringify(live.snapshot())));
    for (const id of running) restored.started(id, live.ledger.repoOf(id)!, "agent");
    expect(restored.snapshot()).toEqual(live.snapshot());
    const drain = (c: SchedulerCore) => {
      const order: string[] = [];
      for (let t = 0; t < 40; t++) {
        const done = c.capacity.runningIds()[0];
        if (done) c.settled(done, "succeeded");
        order.push(...c.dispatch(NOW + 200).starts.map((s) => s.laneId));
      }
      return order;
    };
    const a = drain(live);
    const b = drain(restored);
    expect(b).toEqual(a);
    expect(new Set([...running, ...a]).size).toBe(30); // every lane started exactly once
  });
});
