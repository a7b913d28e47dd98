/**
 * Durability: quit the runtime with lanes queued (and one running, left alive), build a new
 * runtime on the same data dir, and the queue is the same — same positions and reasons, same
 * start order (the fair-share state was restored), nothing started twice, nothing lost; caps,
 * budgets and usage (including a usage report the old server never applied) survive too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema } from "../config";
import { createRuntime, type Runtime } from "../runtime";
import { openDatabase, closeDatabase } from "../store/db";
import { startTestRuntime, waitForLane, type TestRuntime } from "../testing/runtime-harness";
import { addRepo, drainOneByOne, finish, gated, labels, recordStarts, running } from "./scheduler.testing";
import { testDatabaseUrl } from "../testing/test-database";

describe("scheduler restart", () => {
  let h: TestRuntime;
  let second: Awaited<ReturnType<typeof addRepo>>;
  let rt2: Runtime | null = null;
  beforeAll(async () => {
    // Processes outlive the first runtime's quit, as they would a crash or a deploy.
    h = await startTestRuntime({ workerCap: 3, killOnExit: false });
    second = await addRepo(h.rt);
  });
  afterAll(async () => {
    // The first runtime leaves its lanes running; when the test failed before the second took
    // them over, one is opened only to reattach to them and kill them on quit (else the gated
    // workers would poll for their gate for ever).
    await h.rt.quit();
    rt2 ??= await createRuntime(ConfigSchema.parse({ dataDir: h.dataDir, databaseUrl: await testDatabaseUrl(h.dataDir), demo: false, killGraceMs: 1000, workerCap: 3, killOnExit: true }));
    await rt2.quit();
    await h.close();
    await second.cleanup();
  });

  it("rebuilds exactly the same queue on the same data dir: same order, nothing started twice, nothing lost", async () => {
    const rt = h.rt;
    const A = h.repoId;
    const B = second.repoId;
    const survivor = await rt.lanes.create(gated(B, "survivor"));
    await running(rt, survivor.id);
    // One slot is the survivor's: with an agent cap of 1 nothing else starts, with 2 one more does.
    await rt.scheduler.settings.setCaps({ global: { agent: 1 } });
    const hour = 3_600_000;
    const a1 = await rt.lanes.create(gated(A, "a1"));
    for (const label of ["a2", "a3"]) await rt.lanes.create(gated(A, label));
    await rt.lanes.create(gated(A, "a4", { deadline: Date.now() + hour }));
    for (const label of ["b1", "b2"]) await rt.lanes.create(gated(B, label));
    await rt.lanes.create(gated(B, "b3", { priority: 2 }));
    await rt.lanes.create(gated(A, "join", { dependsOn: [a1.id], priority: -5 }));
    const broke = await rt.lanes.create(gated(B, "broke", { budget: { maxTokens: 0 } }));
    await rt.scheduler.settings.setBudgets({ daily: { maxCostUsd: 50 } });

    // Serve three lanes, so the repos' fair-share tags differ when the server stops.
    const first = recordStarts(rt);
    await rt.scheduler.settings.setCaps({ global: { agent: 2 } });
    for (let i = 0; i < 3; i++) {
      await waitFor(rt, () => first.ids.length > i);
      await running(rt, first.ids[i]!);
      if (i === 2) await rt.scheduler.settings.setCaps({ global: { agent: 1 } });
      await finish(rt, first.ids[i]!);
    }
    first.stop();
    expect(await labels(rt, first.ids)).toEqual(["b3", "a4", "a1"]);
    const workerId = (await rt.db.worker.findFirstOrThrow({ where: { laneId: survivor.id } })).id;
    await rt.events.append({ type: "worker.usage", laneId: survivor.id, repoId: B, payload: { workerId, inputTokens: 30, outputTokens: 12, costUsd: 0.5 } });
    await rt.scheduler.idle();

    const before = await rt.scheduler.settings.queue({});
    const view = async (r: Runtime) => (await r.lanes.list()).map((l) => ({ id: l.id, state: l.state, queuePosition: l.queuePosition, waitingFor: l.waitingFor, schedule: l.id === survivor.id ? null : l.schedule }));
    const beforeViews = await view(rt);
    // B was served less, so it goes first; priority/deadline/age alone would say a2, a3, b1, b2.
    // (`broke` keeps its place in the order, but its spent budget will hold it when its turn comes.)
    expect(await labels(rt, before.entries.map((e) => e.laneId))).toEqual(["b1", "a2", "b2", "a3", "broke", "join"]);
    expect(before.entries.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(before.entries[4]?.waitingFor).toMatchObject({ kind: "budget", scope: "lane", key: broke.id });
    await rt.quit();

    // A usage report that reached the event log but was never applied (the server died in between).
    const db = await openDatabase(h.dataDir, { databaseUrl: await testDatabaseUrl(h.dataDir) });
    await db.laneEvent.create({ data: { laneId: survivor.id, repoId: B, type: "worker.usage", version: 1, payload: JSON.stringify({ workerId, inputTokens: 60, outputTokens: 24, costUsd: 1 }) } });
    await closeDatabase(db);

    rt2 = await createRuntime(ConfigSchema.parse({ dataDir: h.dataDir, databaseUrl: await testDatabaseUrl(h.dataDir), demo: false, killGraceMs: 1000, workerCap: 3, killOnExit: true }));
    // On PostgreSQL the queue is rebuilt when the node is elected leader, a moment after its start.
    await rt2.cluster.scheduler.leading();
    const { events: boot } = await rt2.events.listAfter(0, { limit: 5000 });
    expect(boot.filter((e) => e.type === "scheduler.decision" && e.payload.kind === "restored").at(-1)?.payload).toMatchObject({ queued: 6, running: 1 });
    expect(rt2.scheduler.settings.queue({})).toEqual(before);
    expect(await view(rt2)).toEqual(beforeViews);
    expect((await rt2.lanes.get(survivor.id))).toMatchObject({ state: "running", schedule: { used: { tokens: 84, costUsd: 1 } } });
    expect(rt2.scheduler.settings.caps()).toMatchObject({ caps: { global: { agent: 1 } }, running: { global: { agent: 1 } } });
    expect(rt2.scheduler.settings.budgets()).toMatchObject({ daily: { maxCostUsd: 50 }, today: { used: { costUsd: 1 } } });

    // Drain: the start order is exactly the restored positions.
    await rt2.scheduler.settings.setCaps({ global: { agent: 0 } });
    await finish(rt2, survivor.id);
    const rest = await drainOneByOne(rt2, 5, () => rt2!.scheduler.settings.setCaps({ global: { agent: 1 } }));
    expect(await labels(rt2, rest)).toEqual(["b1", "a2", "b2", "a3", "join"]);

    // Nothing started twice, nothing lost: every lane but the refused one started exactly once and finished.
    const { events } = await rt2.events.listAfter(0, { limit: 5000 });
    const starts = new Map<string, number>();
    for (const e of events) if (e.type === "lane.started" && e.laneId) starts.set(e.laneId, (starts.get(e.laneId) ?? 0) + 1);
    const lanes = await rt2.lanes.list();
    expect(lanes.filter((l) => l.id !== broke.id).map((l) => [l.objective, starts.get(l.id), l.state])).toEqual(lanes.filter((l) => l.id !== broke.id).map((l) => [l.objective, 1, "finished"]));
    expect(starts.has(broke.id)).toBe(false);
    await rt2.lanes.kill(broke.id);
    await waitForLane(rt2, broke.id, (l) => l.state === "killed");
    // Eleven lanes, two runtimes: about 20 s on SQLite, up to a minute on PostgreSQL at a load of 20.
  }, 150_000);
});

/** Resolve once `cond` holds, re-checked on every lane event. */
function waitFor(rt: Runtime, cond: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    if (cond()) return resolve();
    const timer = setTimeout(() => (off(), reject(new Error("condition not reached"))), 30_000);
    const off = rt.bus.on("lane.event", () => {
      if (!cond()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}
