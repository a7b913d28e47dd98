/**
 * Budgets and rate limits in the running runtime: pre-flight refusal (a lane whose budget is
 * spent stays queued with `waitingFor: budget`), a running lane stopped gracefully with
 * `budget_exceeded` when its usage crosses its budget, usage rolling up from child to parent,
 * repo/daily budgets, and per-engine rate limits with backoff.
 *
 * Usage reports are `worker.usage` events (running totals per worker) appended to the real event
 * log — the same events the engine monitors append (server/workers) — for real running workers.
 */
import { describe, expect, it, vi } from "vitest";
import { groupMembers } from "../processes/procfs";
import type { Runtime } from "../runtime";
import { databaseProvider, type Db } from "../store/db";
import { waitForLane } from "../testing/runtime-harness";
import { addRepo, finish, gated, running, settled, useSchedulerRuntime } from "./scheduler.testing";


/**
 * Make the database refuse every update of the scheduler's state row (a trigger), as a failed
 * save would (a busy pool, a lost connection, a full disk); resolves with the undo.
 */
async function refuseSchedulerStateWrites(db: Db): Promise<() => Promise<void>> {
  if (databaseProvider(db) === "sqlite") {
    await db.$executeRawUnsafe(`CREATE TRIGGER refuse_state BEFORE UPDATE ON "SchedulerState" BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    return async () => void (await db.$executeRawUnsafe(`DROP TRIGGER refuse_state`));
  }
  await db.$executeRawUnsafe(`CREATE FUNCTION refuse_state() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
  await db.$executeRawUnsafe(`CREATE TRIGGER refuse_state BEFORE UPDATE ON "SchedulerState" FOR EACH ROW EXECUTE FUNCTION refuse_state()`);
  return async () => void (await db.$executeRawUnsafe(`DROP FUNCTION refuse_state() CASCADE`));
}

/** Report a worker's running totals, as the engine monitors do. */
async function report(rt: Runtime, laneId: string, totals: { inputTokens: number; outputTokens: number; costUsd?: number }): Promise<void> {
  const worker = await rt.db.worker.findFirst({ where: { laneId }, orderBy: { createdAt: "desc" } });
  const lane = await rt.lanes.get(laneId);
  await rt.events.append({ type: "worker.usage", laneId, repoId: lane.repoId, payload: { workerId: worker!.id, costUsd: null, ...totals } });
  await rt.scheduler.idle();
}

describe("scheduler budgets and rate limits", () => {
  const h = useSchedulerRuntime();

  it("pre-flight: a lane whose own budget is spent stays queued with the reason; raising the budget starts it", async () => {
    const { rt } = h;
    const broke = await rt.lanes.create(gated(h.repoId, "broke", { budget: { maxTokens: 0 }, priority: 10 }));
    expect(broke).toMatchObject({ state: "queued", waitingFor: { kind: "budget", scope: "lane", key: broke.id, metric: "tokens", spent: 0, limit: 0 } });
    const other = await rt.lanes.create(gated(h.repoId, "other"));
    await running(rt, other.id); // not held up by the refused lane ahead of it
    await rt.scheduler.idle();
    expect((await rt.lanes.get(broke.id)).state).toBe("queued");
    const { events } = await rt.events.listAfter(0, { laneId: broke.id });
    const queued = events.flatMap((e) => (e.type === "lane.queued" ? [e.payload] : []));
    expect(queued.find((p) => p.waitingFor?.kind === "budget")?.reason).toBe("lane budget spent (tokens 0 of 0)");

    const raised = await rt.lanes.setBudget(broke.id, { budget: { maxTokens: 500 } });
    expect(raised.schedule?.budget).toEqual({ maxTokens: 500 });
    await running(rt, broke.id);
    await finish(rt, broke.id);
    await finish(rt, other.id);
  });

  it("a running lane that exceeds its budget is stopped gracefully and fails with budget_exceeded", async () => {
    const { rt } = h;
    const spender = await rt.lanes.create(gated(h.repoId, "spender", { budget: { maxTokens: 1000 } }));
    const live = await running(rt, spender.id);
    const proc = await rt.supervisor.get(live.currentProcessId!);
    await report(rt, spender.id, { inputTokens: 400, outputTokens: 200 });
    expect(await rt.lanes.get(spender.id)).toMatchObject({ state: "running", schedule: { used: { tokens: 600, costUsd: 0 } } });
    await report(rt, spender.id, { inputTokens: 700, outputTokens: 400 }); // totals: +500 → 1100
    const stopped = await settled(rt, spender.id);
    expect(stopped.state).toBe("failed");
    expect(stopped.schedule?.used.tokens).toBe(1100);
    const { events } = await rt.events.listAfter(0, { laneId: spender.id, limit: 1000 });
    expect(events.find((e) => e.type === "scheduler.decision" && e.payload.kind === "budget_exceeded")?.payload).toEqual({ kind: "budget_exceeded", scope: "lane", key: spender.id, metric: "tokens", spent: 1100, limit: 1000 });
    expect(events.find((e) => e.type === "lane.failed")?.payload).toMatchObject({ failureClass: "budget_exceeded", reason: "lane budget spent (tokens 1100 of 1000)" });
    await rt.supervisor.waitForExit(proc.id);
    expect(groupMembers(proc.pgid!)).toEqual([]);
  });

  it("a lane over its budget is stopped even when the usage cannot be saved, and the save is reported", async () => {
    const { rt } = h;
    const spender = await rt.lanes.create(gated(h.repoId, "unsaved", { budget: { maxTokens: 1000 } }));
    await running(rt, spender.id);
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const allow = await refuseSchedulerStateWrites(rt.db);
    try {
      await report(rt, spender.id, { inputTokens: 700, outputTokens: 400 });
      const stopped = await settled(rt, spender.id);
      expect(stopped.state).toBe("failed");
      const { events } = await rt.events.listAfter(0, { laneId: spender.id, limit: 1000 });
      expect(events.find((e) => e.type === "lane.failed")?.payload).toMatchObject({ failureClass: "budget_exceeded", reason: "lane budget spent (tokens 1100 of 1000)" });
      expect(errors.mock.calls.some(([msg]) => msg === "[scheduler] event handling failed")).toBe(true);
    } finally {
      await allow();
      errors.mockRestore();
    }
  });

  it("usage rolls up from child lanes to their parent: the parent's budget stops both", async () => {
    const { rt } = h;
    const parent = await rt.lanes.create(gated(h.repoId, "parent", { budget: { maxCostUsd: 1 } }));
    const child = await rt.lanes.create(gated(h.repoId, "child", { parentId: parent.id }));
    await running(rt, parent.id);
    await running(rt, child.id);
    await report(rt, child.id, { inputTokens: 10, outputTokens: 10, costUsd: 0.4 });
    expect((await rt.lanes.get(parent.id)).schedule?.used).toEqual({ tokens: 20, costUsd: 0.4 });
    await report(rt, child.id, { inputTokens: 20, outputTokens: 20, costUsd: 1.25 });
    const [p, c] = await Promise.all([settled(rt, parent.id), settled(rt, child.id)]);
    expect([p.state, c.state]).toEqual(["failed", "failed"]);
    expect(p.schedule?.used).toEqual({ tokens: 40, costUsd: 1.25 });
    expect(c.schedule?.used).toEqual({ tokens: 40, costUsd: 1.25 });
  });

  it("a spent repo budget holds that repo's lanes only; raising it releases them", async () => {
    const { rt } = h;
    const other = await addRepo(rt);
    try {
      const first = await rt.lanes.create(gated(other.repoId, "first"));
      await running(rt, first.id);
      await report(rt, first.id, { inputTokens: 50, outputTokens: 50 });
      await finish(rt, first.id);
      const view = await rt.scheduler.settings.setBudgets({ repos: { [other.repoId]: { daily: { maxTokens: 100 } } } });
      expect(view.repos[other.repoId]).toMatchObject({ budget: { daily: { maxTokens: 100 } }, used: { tokens: 100 }, usedToday: { tokens: 100 } });
      const held = await rt.lanes.create(gated(other.repoId, "held"));
      const free = await rt.lanes.create(gated(h.repoId, "free"));
      await running(rt, free.id);
      expect(await rt.lanes.get(held.id)).toMatchObject({ state: "queued", waitingFor: { kind: "budget", scope: "repo_day", metric: "tokens", spent: 100, limit: 100 } });
      await rt.scheduler.settings.setBudgets({ repos: { [other.repoId]: { daily: { maxTokens: 1000 } } } });
      await running(rt, held.id);
      await finish(rt, held.id);
      await finish(rt, free.id);
    } finally {
      await other.cleanup();
    }
  });

  it("rate limits per engine: a lane waits for its engine's next request with the time shown; throttling backs the engine off", async () => {
    const { rt } = h;
    await rt.scheduler.settings.setRateLimits({ shell: { requestsPerMinute: 1, burst: 1 } });
    // a takes the one token at its dispatch (not before t0); the next comes a minute after that.
    const t0 = Date.now();
    const a = await rt.lanes.create(gated(h.repoId, "rl-a"));
    await running(rt, a.id);
    const b = await rt.lanes.create(gated(h.repoId, "rl-b"));
    const waiting = await rt.lanes.get(b.id);
    expect(waiting.waitingFor).toMatchObject({ kind: "rate_limit", engine: "shell" });
    const retryAt = (waiting.waitingFor as { retryAt: number }).retryAt;
    expect(retryAt).toBeGreaterThanOrEqual(t0 + 59_000);
    expect((await rt.scheduler.settings.rateLimits()).shell).toEqual({ limit: { requestsPerMinute: 1, burst: 1 }, retryAt });
    // Another engine is not held by shell's limit.
    const script = await rt.lanes.create({ objective: "script lane", repo: h.repoId, branch: `lane/rl-script-${process.pid}`, worker: { engine: "script", script: [{ op: "say", text: "hi" }] } });
    await waitForLane(rt, script.id, (l) => l.state === "finished");
    await rt.scheduler.settings.setRateLimits({ shell: null });
    await running(rt, b.id);

    // Backoff: the engine said "slow down" (retry after 2 s); its next lane waits, then starts by itself.
    await rt.scheduler.settings.setCaps({ global: { agent: 0 } });
    const c = await rt.lanes.create(gated(h.repoId, "rl-c"));
    rt.scheduler.reportThrottle("shell", 2000);
    await rt.scheduler.settings.setCaps({ global: { agent: 4 } });
    expect((await rt.lanes.get(c.id)).waitingFor).toMatchObject({ kind: "rate_limit", engine: "shell" });
    await running(rt, c.id);
    for (const l of [a, b, c]) await finish(rt, l.id);
  });
});
