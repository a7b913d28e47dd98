/**
 * Node registration on a shared PostgreSQL database (node-registry.ts): a node id held by a live
 * node is refused, a node's clock is measured against the database's, a lapsed lease is marked
 * lost only once. Needs a PostgreSQL server: runs in the suite's PostgreSQL run
 * (`npm run test:postgres`); the browser suite's cluster test covers the same through real nodes.
 */
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { schemaVersion } from "../store/dialect-schema";
import { closeDatabase, openDatabase, type Db } from "../store/db";
import { createTestDatabase, testPostgresUrl } from "../testing/test-database";
import { CLOCK_SKEW_WARN_MS, clockSurelyOff, NodeRegistry, type NodeSelf } from "./node-registry";

const admin = testPostgresUrl();

const self = (id: string, dataDir: string): NodeSelf => ({
  id, dataDir, url: null, capacity: 4, repos: null, engines: null, schemaVersion: schemaVersion("postgresql"), leaseMs: 30_000,
});

describe.skipIf(!admin)("node registry on PostgreSQL", () => {
  let db: Db;

  beforeAll(async () => {
    const url = await createTestDatabase(admin!, `t_nodes_${process.pid}`);
    db = await openDatabase(os.tmpdir(), { databaseUrl: url });
  });
  afterAll(async () => {
    await closeDatabase(db);
  });

  it("refuses a node id that a live node on another data dir holds, naming the holder", async () => {
    await new NodeRegistry(db, self("twin", "/srv/a")).register();
    const err = await new NodeRegistry(db, self("twin", "/srv/b")).register().catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe("conflict");
    expect((err as Error).message).toMatch(/node id "twin" is already running \(pid \d+ on .*data dir \/srv\/a/);
  });

  it("lets the same node (same host and data dir) take its id over once its process is gone", async () => {
    await new NodeRegistry(db, self("phoenix", "/srv/p")).register();
    // The row's pid is gone: a restart after a crash, not a second node.
    await db.node.update({ where: { id: "phoenix" }, data: { pid: 2 ** 22 + 1 } });
    const again = await new NodeRegistry(db, self("phoenix", "/srv/p")).register();
    expect(again.previous?.status).toBe("alive");
  });

  it("measures a node's clock against the database's: a clock 7 s ahead is reported as such", async () => {
    const ahead = new NodeRegistry(db, self("skewed", "/srv/s"), () => Date.now() + 7000);
    const { clockSkewMs, clockRttMs } = await ahead.register();
    expect(clockSkewMs).toBeGreaterThan(CLOCK_SKEW_WARN_MS);
    expect(Math.abs(clockSkewMs - 7000)).toBeLessThan(1500);
    expect(clockSurelyOff(clockSkewMs, clockRttMs)).toBe(true);
    const beat = await ahead.heartbeat();
    expect(beat.ours).toBe(true);
    expect(Math.abs(beat.clockSkewMs - 7000)).toBeLessThan(1500);
    expect((await ahead.list()).find((n) => n.id === "skewed")?.clockSkewMs).toBe(beat.clockSkewMs);
    // A node on time is not told anything.
    const onTime = await new NodeRegistry(db, self("punctual", "/srv/t")).register();
    expect(Math.abs(onTime.clockSkewMs)).toBeLessThan(CLOCK_SKEW_WARN_MS);
  });

  it("does not take a slow round trip for a clock that is off: the estimate is only good to half the round trip", async () => {
    // A clock on time whose event loop stalled 6 s just before the query went out (a loaded
    // machine): read 6 s before the database read its clock, and again right after.
    let reads = 0;
    const stalled = new NodeRegistry(db, self("stalled", "/srv/st"), () => Date.now() - (reads++ % 2 === 0 ? 6000 : 0));
    const { clockSkewMs, clockRttMs } = await stalled.register();
    // The midpoint alone says about 3 s behind…
    expect(clockSkewMs).toBeLessThan(-CLOCK_SKEW_WARN_MS);
    expect(clockRttMs).toBeGreaterThanOrEqual(6000);
    // …but the clock can be anywhere in the round trip, on time included: not surely off.
    expect(clockSurelyOff(clockSkewMs, clockRttMs)).toBe(false);
    expect(clockSurelyOff(-7000, 6000)).toBe(true);
  });

  it("a node shutting down beats as stopped: it keeps its lease, but is no longer alive for placing lanes", async () => {
    const node = new NodeRegistry(db, self("leaving", "/srv/lv"));
    await node.register();
    const before = (await node.rows()).find((r) => r.id === "leaving")!;
    expect((await node.heartbeat("stopped")).ours).toBe(true);
    // The dispatcher places lanes only on nodes the list calls alive (dispatcher.ts).
    expect((await node.list()).find((n) => n.id === "leaving")).toMatchObject({ status: "stopped", alive: false });
    expect((await node.rows()).find((r) => r.id === "leaving")!.heartbeatAt.getTime()).toBeGreaterThanOrEqual(before.heartbeatAt.getTime());
    // A beat that says alive (the default) makes it a placement target again.
    await node.heartbeat();
    expect((await node.list()).find((n) => n.id === "leaving")).toMatchObject({ status: "alive", alive: true });
  });

  it("marks a lapsed node lost once, guarded on the heartbeat the leader saw; its next beat learns it", async () => {
    const node = new NodeRegistry(db, self("lapsed", "/srv/l"));
    await node.register();
    const row = (await node.rows()).find((r) => r.id === "lapsed")!;
    const leader = new NodeRegistry(db, self("leader", "/srv/x"));
    expect(await leader.markLost("lapsed", row.instance, row.heartbeatAt)).toBe(true);
    expect(await leader.markLost("lapsed", row.instance, row.heartbeatAt)).toBe(false);
    const beat = await node.heartbeat();
    expect(beat).toMatchObject({ ours: true, wasStatus: "lost" });
    // A heartbeat that moved on is not the one the leader saw: no verdict.
    expect(await leader.markLost("lapsed", row.instance, row.heartbeatAt)).toBe(false);
  });

  it("a heartbeat from an older instance of an id that was taken over is not this node's any more", async () => {
    const old = new NodeRegistry(db, self("moved", "/srv/m"));
    await old.register();
    await db.node.update({ where: { id: "moved" }, data: { pid: 2 ** 22 + 2 } });
    await new NodeRegistry(db, self("moved", "/srv/m")).register();
    expect((await old.heartbeat()).ours).toBe(false);
  });
});
