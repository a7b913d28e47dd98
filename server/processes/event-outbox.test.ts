/**
 * EventOutbox against the real event log on a database that is full (SQLite's max_page_count
 * pinned to the pages it has: every write that needs a page fails with SQLITE_FULL, as on a full
 * disk): kept events land in order, each exactly once however many flushes run at once, and an
 * event the log refuses for good does not hold back the ones after it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { NewLaneEvent } from "@/lib/lane-events";
import { storageFailureOf } from "@/lib/storage-errors";
import { EventBus } from "../events/event-bus";
import { EventLog } from "../events/event-log";
import { closeDatabase, openDatabase, type Db } from "../store/db";
import { EventOutbox } from "./event-outbox";

let dir: string;
let db: Db;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-event-outbox-"));
  db = await openDatabase(dir);
});
afterAll(async () => {
  await closeDatabase(db);
  await rm(dir, { recursive: true, force: true });
});

async function fillDatabase(full: boolean): Promise<void> {
  if (!full) return void (await db.$executeRawUnsafe("PRAGMA max_page_count = 1073741823"));
  const [{ page_count } = { page_count: 0n }] = await db.$queryRawUnsafe<{ page_count: bigint }[]>("PRAGMA page_count");
  await db.$executeRawUnsafe(`PRAGMA max_page_count = ${Number(page_count)}`);
}

/** A warning too big for the free room left in the database's last page. */
const warning = (name: string): NewLaneEvent => ({ type: "warning", laneId: null, payload: { failureClass: "infra", message: `${name} ${"x".repeat(20_000)}` } });
const stored = async () => (await db.laneEvent.findMany({ orderBy: { id: "asc" } })).map((r) => (JSON.parse(r.payload) as { message: string }).message.split(" ")[0]);

it("keeps events refused by a full database, writes each once and in order when room returns, and drops one the log refuses for good", async () => {
  const log = new EventLog(db, new EventBus());
  const refusals: unknown[] = [];
  const outbox = new EventOutbox((e) => log.append(e), (err) => refusals.push(err), 3_600_000); // flushed by hand only

  await outbox.send(warning("a"));
  expect(await stored()).toEqual(["a"]);

  await fillDatabase(true);
  await outbox.send(warning("b"));
  expect(refusals.map(storageFailureOf)).toEqual(["disk_full"]);
  await outbox.send({ type: "warning", laneId: null, payload: { failureClass: "no-such-class" } } as unknown as NewLaneEvent);
  await outbox.send(warning("c"));
  await Promise.all([outbox.flush(), outbox.flush()]); // still full: all kept
  expect(outbox.waiting).toBe(3);
  expect(await stored()).toEqual(["a"]);

  await fillDatabase(false);
  await Promise.all([outbox.flush(), outbox.flush(), outbox.flush()]);
  expect(outbox.waiting).toBe(0);
  expect(await stored()).toEqual(["a", "b", "c"]);
  outbox.stop();
});
