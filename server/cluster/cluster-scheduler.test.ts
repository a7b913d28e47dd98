/**
 * The leader's scheduler (real {@link Scheduler} behind the {@link ClusterScheduler}, real
 * database and event log) bounded by the slots of the live nodes: lane starts are answered as
 * the dispatcher answers them (a node with a free slot by {@link chooseNode}, else refused), and a
 * full cluster must not be offered the queued lanes it can only refuse.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventBus } from "../events/event-bus";
import { EventLog } from "../events/event-log";
import { ClusterRpc } from "../rpc/rpc";
import { closeDatabase, openDatabase, type Db } from "../store/db";
import { testDatabaseUrl } from "../testing/test-database";
import { ClusterScheduler } from "./cluster-scheduler";
import { chooseNode } from "./dispatcher";
import type { NewLaneEvent } from "@/lib/lane-events";
import type { LaneRow } from "../records/lane-store";
import { laneSchedulingSchema } from "../scheduler/schemas";

describe("ClusterScheduler on a cluster", () => {
  let dataDir: string;
  let db: Db;
  let cs: ClusterScheduler | null = null;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "laneboard-clsched-"));
    db = await openDatabase(dataDir, { databaseUrl: await testDatabaseUrl(dataDir) });
  });
  afterEach(async () => {
    await cs?.stop();
    await closeDatabase(db);
    await rm(dataDir, { recursive: true, force: true });
  });

  it("counts agent and background lanes against the same node slots", async () => {
    const bus = new EventBus();
    const events = new EventLog(db, bus);
    const repo = await db.repo.create({ data: { path: "/r", name: "r", mainBranch: "main" } });
    for (const [i, pool] of ["background", "agent", "background"].entries()) {
      await db.lane.create({ data: { repoId: repo.id, slug: `l${i}`, objective: `l${i}`, branch: `lane/l${i}`, baseBranch: "main", worktreePath: `/w/l${i}`, engine: "shell", packet: "{}", state: "queued", pool } });
    }
    const offers: string[] = [];
    bus.handle("lane.start", async ({ laneId }) => (offers.push(laneId), true));
    cs = new ClusterScheduler({ db, rpc: new ClusterRpc("a"), schedulerDeps: () => ({ db, events, bus, workerCap: null }), leader: async () => "a" });
    // Two slots; the background pool's own cap (2) and the agent cap (1,000) would let all three start.
    cs.setNodeSlots(2);
    await cs.lead();
    await cs.idle();
    expect(offers).toHaveLength(2);
  });

  it("offers lanes only while the live nodes have a free slot: none refused, none logged as dispatched in vain; a freed slot or a new node is filled", async () => {
    const bus = new EventBus();
    const events = new EventLog(db, bus);
    const repo = await db.repo.create({ data: { path: "/r", name: "r", mainBranch: "main" } });
    const laneIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const lane = await db.lane.create({ data: { repoId: repo.id, slug: `l${i}`, objective: `l${i}`, branch: `lane/l${i}`, baseBranch: "main", worktreePath: `/w/l${i}`, engine: "shell", packet: "{}", state: "queued" } });
      laneIds.push(lane.id);
    }
    // The dispatcher's answer: a node with a free slot (lanes starting or running on it), else no.
    const nodes = [{ id: "a", capacity: 2 }, { id: "b", capacity: 1 }];
    const placed = new Map<string, string>();
    const offers: string[] = [];
    const runningByNode = () => {
      const m = new Map<string, number>();
      for (const n of placed.values()) m.set(n, (m.get(n) ?? 0) + 1);
      return m;
    };
    bus.handle("lane.start", async ({ laneId }) => {
      offers.push(laneId);
      const node = chooseNode(nodes, runningByNode(), null);
      if (node) placed.set(laneId, node);
      return node !== null;
    });
    const dispatched = async () => (await events.listAfter(0, { limit: 5000 })).events.filter((e) => e.type === "scheduler.decision" && e.payload.kind === "dispatched").length;

    // workerCap null: several nodes, the cluster's default global cap (1,000) holds.
    cs = new ClusterScheduler({ db, rpc: new ClusterRpc("a"), schedulerDeps: () => ({ db, events, bus, workerCap: null }), leader: async () => "a" });
    cs.setNodeSlots(3); // the lease watch's count: a (2) + b (1)
    await cs.lead();
    await cs.idle();
    expect(offers).toHaveLength(3);
    expect(placed.size).toBe(3);
    expect(await dispatched()).toBe(3);
    const waiting = laneIds.filter((id) => !placed.has(id));
    expect([...(await cs.whereMany(waiting)).values()].map((w) => w.waitingFor)).toEqual(waiting.map(() => ({ kind: "cap", pool: "agent", scope: "global" })));

    // A lane on b ends: its slot is offered, once.
    const onB = [...placed].find(([, n]) => n === "b")![0];
    placed.delete(onB);
    await events.append({ type: "lane.state_changed", laneId: onB, repoId: repo.id, payload: { from: "running", to: "finished" } });
    await cs.idle();
    expect(offers).toHaveLength(4);
    expect(placed.get(offers[3]!)).toBe("b");

    // A node with two slots joins: the two lanes still queued go there.
    nodes.push({ id: "c", capacity: 2 });
    cs.setNodeSlots(5);
    await cs.idle();
    expect(offers).toHaveLength(6);
    expect(new Set(offers).size).toBe(6);
    expect(offers.filter((id) => id !== onB).every((id) => placed.has(id))).toBe(true);
    expect(runningByNode()).toEqual(new Map([["a", 2], ["b", 1], ["c", 2]]));
    expect(await dispatched()).toBe(6);
  });
  it("queues the lanes created or restarted while a new leader was opening its scheduler: their rows changed after the rebuild read the queue, their submit or requeue before the scheduler was in place", async () => {
    const bus = new EventBus();
    const repo = await db.repo.create({ data: { path: "/r", name: "r", mainBranch: "main" } });
    const done = await db.lane.create({ data: { repoId: repo.id, slug: "done", objective: "done", branch: "lane/done", baseBranch: "main", worktreePath: "/w/done", engine: "shell", packet: "{}", state: "finished" } });
    const offers: string[] = [];
    bus.handle("lane.start", async ({ laneId }) => (offers.push(laneId), true));
    let created: string | null = null;
    // The rebuild's last step is its `restored` decision: a lane is created right then, as
    // LaneService creates one (queued row, lane.created, submit), before lead() has a scheduler.
    class OpeningLog extends EventLog {
      override async append(event: NewLaneEvent) {
        if (event.type === "scheduler.decision" && event.payload.kind === "restored" && !created) {
          const queuedAt = Date.now();
          const lane = await db.lane.create({ data: { repoId: repo.id, slug: "late", objective: "late", branch: "lane/late", baseBranch: "main", worktreePath: "/w/late", engine: "shell", packet: "{}", state: "queued", queuedAt: new Date(queuedAt) } });
          created = lane.id;
          await super.append({ type: "lane.created", laneId: lane.id, repoId: repo.id, payload: { objective: "late", branch: "lane/late", baseBranch: "main", engine: "shell", worktreePath: "/w/late" } });
          await cs!.submit(lane, laneSchedulingSchema({ now: queuedAt, laneId: lane.id }).parse({}), queuedAt);
          // A restart on a node that does not lead: ClusterScheduler.requeue's guarded write only.
          // (It reads only the row's deadline: the bare row stands in for a LaneRow.)
          const row = await cs!.requeue(done as unknown as LaneRow, async (data) => (await db.lane.update({ where: { id: done.id }, data: { ...data, state: "queued" } })) as unknown as LaneRow);
          await super.append({ type: "lane.state_changed", laneId: done.id, repoId: repo.id, payload: { from: "finished", to: "queued" } });
          expect(row?.state).toBe("queued");
        }
        return super.append(event);
      }
    }
    const events = new OpeningLog(db, bus);
    cs = new ClusterScheduler({ db, rpc: new ClusterRpc("a"), schedulerDeps: () => ({ db, events, bus, workerCap: null }), leader: async () => "a" });
    await cs.lead();
    await cs.idle();
    expect(created).not.toBeNull();
    expect(offers.sort()).toEqual([created, done.id].sort());
  });
  it("does not queue again from its row a lane it dispatched whose row still says queued (its start in flight)", async () => {
    const bus = new EventBus();
    const events = new EventLog(db, bus);
    const repo = await db.repo.create({ data: { path: "/r", name: "r", mainBranch: "main" } });
    const lane = await db.lane.create({ data: { repoId: repo.id, slug: "l", objective: "l", branch: "lane/l", baseBranch: "main", worktreePath: "/w/l", engine: "shell", packet: "{}", state: "queued" } });
    const offers: string[] = [];
    let offered!: () => void;
    const inFlight = new Promise<void>((r) => (offered = r));
    let finish!: (ok: boolean) => void;
    // The start is offered and not answered yet: the row still says queued.
    // (A second offer is refused at once, as the runner's guarded queued → starting would.)
    bus.handle("lane.start", ({ laneId }) => (offers.push(laneId), offered(), offers.length > 1 ? Promise.resolve(false) : new Promise<boolean>((r) => (finish = r))));
    cs = new ClusterScheduler({ db, rpc: new ClusterRpc("a"), schedulerDeps: () => ({ db, events, bus, workerCap: null }), leader: async () => "a" });
    const leading = cs.lead();
    await inFlight;
    await cs.local!.adoptQueued();
    finish(true);
    await leading;
    await cs.idle();
    expect(offers).toEqual([lane.id]);
    const queuedEvents = (await events.listAfter(0, { limit: 100 })).events.filter((e) => e.type === "lane.queued" && e.laneId === lane.id);
    expect(queuedEvents).toHaveLength(0);
  });
});
