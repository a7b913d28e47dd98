/**
 * The incremental lane read model against a from-scratch recomputation: after every step of a
 * seeded random sequence of writes (through the production write paths: guarded lane and worker
 * transitions, check runs on the Lane row, freshness counts, process rows, events, a bulk import
 * through a second connection, a throttled usage report), the long-lived read model answers
 * exactly what a new read model built from the database answers.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LANE_STATES, canTransitionLane, type LaneState } from "@/lib/lane-state";
import { EventBus } from "../events/event-bus";
import { EventLog } from "../events/event-log";
import { findLane, transitionLane, updateLane } from "../records/lane-store";
import { seededRandom } from "../scheduler/reference-queue";
import { Scheduler } from "../scheduler/scheduler";
import { closeDatabase, openDatabase, type Db } from "../store/db";
import { seedLanes } from "../testing/seed-lanes";
import { LaneSummaryService } from "../workers/lane-summary";
import { applyWorkerEvent, createWorker, WORKER_EVENTS } from "../workers/worker-state-machine";
import { LaneViews, type LaneViewsDeps } from "./lane-views";

describe("LaneViews, the incremental lane read model", () => {
  let root: string;
  let db: Db;
  let bus: EventBus;
  let events: EventLog;
  let deps: LaneViewsDeps;
  let scheduler: Scheduler;
  /** The freshness tracker's in-memory `baseMoved` (computed from git in the server), set by the steps. */
  const baseMoved = new Map<string, boolean>();
  let movedWrites = 0;
  let summaries: LaneSummaryService;
  const repoId = "views-repo";

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "laneboard-views-"));
    db = await openDatabase(root);
    bus = new EventBus();
    // No lane runner here: a lane the scheduler would start stays queued.
    bus.handle("lane.start", async () => false);
    events = new EventLog(db, bus);
    await db.repo.create({ data: { id: repoId, path: path.join(root, "repo"), name: "views", mainBranch: "main" } });
    summaries = new LaneSummaryService({ db, bus });
    scheduler = await Scheduler.open({ db, events, bus, workerCap: 4 });
    // Its version counts the steps' writes, as the tracker's counts its own.
    const freshness = { peek: (id: string) => (baseMoved.has(id) ? ({ baseMoved: baseMoved.get(id)! } as never) : null), get version() { return movedWrites; } };
    // The views' side of the scheduler on one node (what the cluster facade answers there).
    const api = { whereMany: (ids: readonly string[]) => scheduler.whereMany(ids), laneSchedule: scheduler.settings.laneSchedule.bind(scheduler.settings), laneUsage: scheduler.settings.laneUsage.bind(scheduler.settings), usageVersion: () => scheduler.settings.usageVersion() };
    deps = { db, scheduler: api, summaries, freshness, bus, sessions: { hasSession: () => false } };
  });
  afterAll(async () => {
    await scheduler.stop();
    summaries.close();
    await closeDatabase(db);
    await rm(root, { recursive: true, force: true });
  });

  /** Let the scheduler react to what was written (it re-queues, settles, appends its own events). */
  async function quiesce(): Promise<void> {
    await scheduler.idle();
    await events.flush();
    await scheduler.idle();
  }

  /** What a read model that never saw anything before answers now. */
  async function fromScratch(): Promise<unknown[]> {
    const fresh = new LaneViews(deps);
    try {
      return await fresh.list();
    } finally {
      fresh.stop();
    }
  }

  it("answers after every step of 150 random writes what a recomputation from the database answers", async () => {
    // Seeded, so a failing sequence replays from its seed.
    const rand = seededRandom(15);
    const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
    const ids = await seedLanes(db, { repoId, count: 30, worktreeRoot: path.join(root, "wt"), prefix: "a" });
    const views = new LaneViews(deps);
    let imports = 0;
    const steps: Record<string, (laneId: string) => Promise<void>> = {
      async transition(laneId) {
        const lane = (await findLane(db, laneId))!;
        const targets = LANE_STATES.filter((to: LaneState) => canTransitionLane(lane.state as LaneState, to));
        if (targets.length) await transitionLane({ db, events }, lane, pick(targets), { attempt: lane.attempt + 1 });
      },
      async check(laneId) {
        const checks = JSON.stringify([{ index: 0, level: "targeted", argv: ["npm", "test"], status: pick(["running", "green", "red"]), exitCode: 1, durationMs: 5, startedAt: new Date().toISOString(), endedAt: null, round: 1 }]);
        await updateLane(db, laneId, { checks, lastExitCode: pick([0, 1, null]) });
        await events.append({ type: "check.started", laneId, payload: { processId: `${laneId}-p`, level: "targeted", command: ["npm", "test"] } });
      },
      async freshness(laneId) {
        const counts = { ahead: rand(5), behind: rand(5) };
        await db.lane.update({ where: { id: laneId }, data: counts });
        await events.append({ type: "branch.freshness", laneId, payload: { ...counts, baseBranch: "main" } });
      },
      async baseMoves(laneId) {
        // In memory only (the tracker's memo): composed into each read, never cached stale.
        baseMoved.set(laneId, rand(2) === 0);
        movedWrites++;
      },
      async flag(laneId) {
        const sha = `${rand(1e9)}`;
        const event = pick([
          { type: "lane.escalated", payload: { reason: "needs a person", failureClass: "test", evidence: ["x"] } },
          { type: "lane.merge.ready", payload: { sha } },
          { type: "lane.merge.blocked", payload: { reasons: ["stale"], level: "targeted", conflicts: [], message: "behind main" } },
          { type: "lane.commit.created", payload: { sha, subject: "work", branch: "b" } },
          { type: "lane.restarted", payload: { attempt: 2, by: "test" } },
          { type: "lane.merged", payload: { strategy: "ff", baseBranch: "main", previous: "p", sha, by: "test", updatedWorktree: null } },
        ] as const);
        await events.append({ ...event, laneId } as Parameters<EventLog["append"]>[0]);
      },
      async worker(laneId) {
        const current = await db.worker.findFirst({ where: { laneId }, orderBy: [{ attempt: "desc" }, { createdAt: "desc" }] });
        if (!current || rand(10) < 3) await createWorker({ db, events }, { laneId, repoId, engine: "shell", attempt: (current?.attempt ?? 0) + 1 });
        else await applyWorkerEvent({ db, events }, current.id, pick(WORKER_EVENTS), { repoId });
      },
      async usage(laneId) {
        // As the worker monitor's throttled usage report: the row written, no event, the bus told.
        const current = await db.worker.findFirst({ where: { laneId }, orderBy: [{ attempt: "desc" }, { createdAt: "desc" }] });
        if (!current) return;
        await db.worker.update({ where: { id: current.id }, data: { usage: JSON.stringify({ inputTokens: rand(1000), outputTokens: 7, costUsd: null }) } });
        bus.emit("lane.touched", { laneId });
      },
      async process(laneId) {
        await db.process.create({ data: { id: `${laneId}-${rand(1e9)}`, laneId, role: "check", command: "[]", cwd: "/", status: "starting", logDir: "/x", stdoutPath: "/x/o", stderrPath: "/x/e" } });
        await events.append({ type: "check.started", laneId, payload: { processId: "p", level: "targeted", command: ["true"] } });
      },
      async bulkImport() {
        // Another connection (an import tool, the e2e seeding): rows first, events last, no bus.
        const other = await openDatabase(root);
        try {
          ids.push(...(await seedLanes(other, { repoId, count: 3, worktreeRoot: path.join(root, "wt"), prefix: `i${imports++}` })));
        } finally {
          await closeDatabase(other);
        }
      },
      async repoEvent() {
        await events.append({ type: "repo.registered", laneId: null, repoId, payload: { path: "/x", name: "views", mainBranch: "main" } } as Parameters<EventLog["append"]>[0]);
      },
    };
    const names = Object.keys(steps);
    for (let step = 0; step < 150; step++) {
      const name = pick(names);
      await steps[name]!(pick(ids));
      await quiesce();
      // Read some steps but not others, so a sync sometimes applies several writes at once.
      if (rand(2) === 0) {
        const [incremental, json, scratch] = [await views.list(), JSON.parse((await views.listBody()).toString("utf8")) as unknown, await fromScratch()];
        expect(incremental, `step ${step}: ${name}`).toEqual(scratch);
        expect(json, `step ${step}: ${name} (JSON)`).toEqual(scratch);
      }
    }
    expect(await views.list()).toEqual(await fromScratch());
    expect((await views.list()).length).toBe(ids.length);
    views.stop();
  }, 240_000); // a few seconds alone; minutes on a loaded shared machine

  it("answers one lane as the list does, and not_found for an unknown lane", async () => {
    const views = new LaneViews(deps);
    const [first] = await views.list();
    expect(await views.get(first!.id)).toEqual(first);
    await expect(views.get("no-such-lane")).rejects.toMatchObject({ code: "not_found" });
    views.stop();
  });
});
