/**
 * The leader's lease watch counting the cluster's lane slots (lease-watch.ts, dispatcher.ts
 * `laneSlots`), from real Node and Lane rows: the slots of the nodes alive on this schema version,
 * the leader included, plus the lanes still running on a node that stops; a node that stops or
 * joins changes the count. Needs a PostgreSQL server: runs in the
 * suite's PostgreSQL run (`npm run test:postgres`).
 */
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBus } from "../events/event-bus";
import { EventLog } from "../events/event-log";
import { schemaVersion } from "../store/dialect-schema";
import { closeDatabase, openDatabase, type Db } from "../store/db";
import { createTestDatabase, testPostgresUrl } from "../testing/test-database";
import { LaneStartQueue } from "./lane-queue";
import { LeaseWatch } from "./lease-watch";
import { ClusterListener } from "./listener";
import { NodeRegistry, type NodeSelf } from "./node-registry";

const admin = testPostgresUrl();
const VERSION = schemaVersion("postgresql");

const self = (id: string, capacity: number): NodeSelf => ({ id, dataDir: `/srv/${id}`, url: null, capacity, repos: null, engines: null, schemaVersion: VERSION, leaseMs: 30_000 });

describe.skipIf(!admin)("lease watch on PostgreSQL", () => {
  let db: Db;
  let url: string;
  beforeAll(async () => {
    url = await createTestDatabase(admin!, `t_lease_${process.pid}`);
    db = await openDatabase(os.tmpdir(), { databaseUrl: url });
  });
  afterAll(async () => {
    await closeDatabase(db);
  });

  it("reports the lane slots: the live nodes' on its schema version, itself included, plus lanes running on a stopping node; again whenever they change", async () => {
    const leader = new NodeRegistry(db, self("lead", 2));
    const peer = new NodeRegistry(db, self("peer", 3));
    const older = new NodeRegistry(db, self("older", 5));
    const leaving = new NodeRegistry(db, self("leaving", 7));
    for (const r of [leader, peer, older, leaving]) await r.register();
    await db.node.update({ where: { id: "older" }, data: { schemaVersion: "20000101000000_older" } });
    await leaving.heartbeat("stopped");
    // Lanes running: one on the leader (within its 2 slots), two on the stopping node, which run on
    // although no new lane goes there: they hold slots the scheduler counts, so they count as slots.
    const repo = await db.repo.create({ data: { path: "/r", name: "r", mainBranch: "main" } });
    for (const [i, nodeId] of ["lead", "leaving", "leaving"].entries()) {
      await db.lane.create({ data: { repoId: repo.id, slug: `l${i}`, objective: "x", branch: `lane/l${i}`, baseBranch: "main", worktreePath: `/w/l${i}`, engine: "shell", packet: "{}", state: "running", nodeId } });
    }
    // Not started: it would only be asked to drop a lost node's jobs, and no node is lost here.
    const queue = new LaneStartQueue({ url, nodeId: "lead", listener: new ClusterListener({ url }) });
    const reported: number[] = [];
    const watch = new LeaseWatch({
      db, events: new EventLog(db, new EventBus()), registry: leader, queue, schemaVersion: VERSION,
      onCapacityChange: (capacity) => reported.push(capacity),
      onLost: () => undefined,
    });
    await watch.check();
    // lead (2) + peer (3) + the stopping node's two lanes: 7 slots, 3 taken, 4 free (all on lead and peer).
    expect(reported).toEqual([2 + 3 + 2]);
    await watch.check();
    expect(reported).toEqual([7]); // nothing changed: nothing said
    await peer.heartbeat("stopped");
    await watch.check();
    expect(reported).toEqual([7, 4]);
    await new NodeRegistry(db, self("late", 4)).register();
    await watch.check();
    expect(reported).toEqual([7, 4, 8]);
  });
});
