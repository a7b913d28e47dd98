/**
 * Test helper: the storage a state write needs, for one test file. The suite's database (SQLite,
 * or PostgreSQL in the suite's PostgreSQL run: test-database.ts) in a fresh temp data dir, an
 * {@link EventLog} on an {@link EventBus} whose published lane events are recorded in order, and
 * one registered repository (at the data dir; nothing reads its files). Opened by the file's
 * `beforeAll`, closed and removed by its `afterAll`. Not imported by runtime code.
 */
import { afterAll, beforeAll } from "vitest";
import type { LaneEvent } from "@/lib/lane-events";
import { EventBus } from "../events/event-bus";
import { EventLog } from "../events/event-log";
import { makeTempDir } from "../git/git.testing";
import { closeDatabase, openDatabase, type Db } from "../store/db";
import { testDatabaseUrl } from "./test-database";

export interface EventStoreHandle {
  readonly dir: string;
  readonly db: Db;
  readonly events: EventLog;
  /** Every `lane.event` the bus published since the file's `beforeAll`, oldest first. */
  readonly published: LaneEvent[];
  readonly repoId: string;
}

/**
 * Register the hooks and return the handle; its fields throw until `beforeAll` has run.
 * @param prefix the temp data dir's name prefix (which test it belongs to, when one is left behind)
 */
export function eventStorePerFile(prefix: string): EventStoreHandle {
  let open: (Omit<EventStoreHandle, "published"> & { cleanup: () => Promise<void> }) | null = null;
  const published: LaneEvent[] = [];
  const get = () => {
    if (!open) throw new Error("the event store is not open (use it inside a test or hook)");
    return open;
  };
  beforeAll(async () => {
    const tmp = await makeTempDir(prefix);
    const db = await openDatabase(tmp.dir, { databaseUrl: await testDatabaseUrl(tmp.dir) });
    const bus = new EventBus();
    bus.on("lane.event", (e) => published.push(e));
    const repoId = (await db.repo.create({ data: { path: tmp.dir, name: "r", mainBranch: "main" } })).id;
    open = { dir: tmp.dir, db, events: new EventLog(db, bus), repoId, cleanup: tmp.cleanup };
  });
  afterAll(async () => {
    if (!open) return;
    await closeDatabase(open.db);
    await open.cleanup();
    open = null;
  });
  return {
    published,
    get dir() { return get().dir; },
    get db() { return get().db; },
    get events() { return get().events; },
    get repoId() { return get().repoId; },
  };
}
