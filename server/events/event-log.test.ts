import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LaneEvent } from "@/lib/lane-events";
import { closeDatabase, openDatabase, type Db } from "../store/db";
import { EventBus } from "./event-bus";
import { EventLog } from "./event-log";
import { MAX_EVENTS_PER_INSERT } from "../store/sql/types";
import { testDatabaseUrl } from "../testing/test-database";

describe("EventLog over a real SQLite file", () => {
  let root: string;
  let db: Db;
  let log: EventLog;
  const published: LaneEvent[] = [];
  let laneA: string;
  let laneB: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "laneboard-event-log-"));
    db = await openDatabase(root, { databaseUrl: await testDatabaseUrl(root) });
    const bus = new EventBus();
    bus.on("lane.event", (e) => published.push(e));
    log = new EventLog(db, bus);
    const repo = await db.repo.create({ data: { path: "/srv/demo", name: "demo", mainBranch: "main" } });
    const lane = (slug: string) =>
      db.lane.create({
        data: { repoId: repo.id, slug, objective: slug, branch: `lane/${slug}`, baseBranch: "main", worktreePath: `/w/${slug}`, engine: "script", packet: "{}", state: "queued" },
      });
    laneA = (await lane("a")).id;
    laneB = (await lane("b")).id;
  });

  afterAll(async () => {
    await closeDatabase(db);
    await rm(root, { recursive: true, force: true });
  });

  it("persists, publishes in id order and returns what listAfter reads back", async () => {
    const before = await log.latestId();
    const appended = await Promise.all([
      log.append({ type: "lane.state_changed", laneId: laneA, payload: { from: "queued", to: "starting" } }),
      log.append({ type: "process.exited", laneId: laneB, payload: { processId: "p1", role: "background", exitCode: 3, signal: null } }),
      log.append({ type: "lane.state_changed", laneId: laneA, payload: { from: "starting", to: "running" } }),
    ]);
    const ids = appended.map((e) => e.id);
    expect(ids[0]).toBeGreaterThan(before);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(published.slice(-3)).toEqual(appended);
    // The event built at append time is exactly the one parsed back from the row.
    const { events } = await log.listAfter(before);
    expect(events).toEqual(appended);
    expect(appended[1]).toMatchObject({ v: 1, laneId: laneB, repoId: expect.any(String), type: "process.exited", payload: { exitCode: 3, signal: null } });
  });

  it("appendAll stores a transition's events with one INSERT: ids ascending in the order given, published in that order", async () => {
    const before = await log.latestId();
    const since = published.length;
    const appended = await log.appendAll([
      { type: "lane.state_changed", laneId: laneB, payload: { from: "queued", to: "starting" } },
      { type: "warning", laneId: null, payload: { failureClass: "infra", message: "between" } },
      { type: "lane.state_changed", laneId: laneB, payload: { from: "starting", to: "running" } },
    ]);
    expect(appended.map((e) => e.type)).toEqual(["lane.state_changed", "warning", "lane.state_changed"]);
    expect(appended.map((e) => e.id)).toEqual([before + 1, before + 2, before + 3]);
    expect(published.slice(since)).toEqual(appended);
    expect((await log.listAfter(before)).events).toEqual(appended);
    // The trigger ran for each row in turn: the lane points at its later event of the two.
    expect((await db.lane.findUniqueOrThrow({ where: { id: laneB } })).lastEventId).toBe(appended[2]!.id);
  });

  it("appendAll of more events than one INSERT takes: all stored, in order", async () => {
    const before = await log.latestId();
    const many = Array.from({ length: 2 * MAX_EVENTS_PER_INSERT + 5 }, (_, i) => ({ type: "warning" as const, laneId: laneA, payload: { failureClass: "infra" as const, message: `n${i}` } }));
    const appended = await log.appendAll(many);
    const { events } = await log.listAfter(before, { limit: 5000 });
    expect(events).toEqual(appended);
    expect(events.map((e) => (e.payload as { message: string }).message)).toEqual(many.map((e) => e.payload.message));
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => before + 1 + i));
  });

  it("keeps Lane.lastEventId on each lane's newest event (database trigger)", async () => {
    const a = await log.append({ type: "lane.state_changed", laneId: laneA, payload: { from: "running", to: "checking" } });
    const b = await log.append({ type: "lane.state_changed", laneId: laneB, payload: { from: "queued", to: "starting" } });
    await log.append({ type: "warning", laneId: null, payload: { failureClass: "infra", message: "global, no lane" } });
    const lanes = await db.lane.findMany({ where: { id: { in: [laneA, laneB] } }, select: { id: true, lastEventId: true } });
    expect(Object.fromEntries(lanes.map((l) => [l.id, l.lastEventId]))).toEqual({ [laneA]: a.id, [laneB]: b.id });
  });

  it("rejects an event of an unknown lane and goes on appending", async () => {
    await expect(log.append({ type: "lane.state_changed", laneId: "no-such-lane", payload: { from: "queued", to: "starting" } })).rejects.toThrow(/foreign key/i);
    const next = await log.append({ type: "lane.state_changed", laneId: laneA, payload: { from: "checking", to: "running" } });
    expect((await db.lane.findUniqueOrThrow({ where: { id: laneA } })).lastEventId).toBe(next.id);
  });

  it("a node following the cluster publishes the events another node appended, in id order with its own", async () => {
    // A second node on the same database: its own bus, the same table.
    const otherBus = new EventBus();
    const other = new EventLog(db, otherBus);
    const seen: number[] = [];
    otherBus.on("lane.event", (e) => seen.push(e.id));
    other.followCluster(await other.latestId());
    const a1 = await log.append({ type: "lane.state_changed", laneId: laneA, payload: { from: "running", to: "checking" } });
    const a2 = await log.append({ type: "lane.state_changed", laneId: laneB, payload: { from: "running", to: "checking" } });
    // Its own append after ids it has not published yet publishes those first.
    const own = await other.append({ type: "lane.state_changed", laneId: laneA, payload: { from: "checking", to: "running" } });
    const a3 = await log.append({ type: "lane.state_changed", laneId: laneB, payload: { from: "checking", to: "running" } });
    // Then, with no upper bound: whatever was appended since.
    expect(await other.pullRemote()).toBe(1);
    expect(seen).toEqual([a1.id, a2.id, own.id, a3.id]);
    expect(await other.pullRemote()).toBe(0);
  });
});
