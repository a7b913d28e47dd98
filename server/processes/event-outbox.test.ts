/**
 * EventOutbox against the real event log on a database that is full (SQLite's max_page_count
 * pinned to the pages it has: every write that needs a page fails with SQLITE_FULL, as on a full
 * disk): kept events land in order, each exactly once however many flushes run at once, and an
 * event the log refuses for good does not hold back the ones after it.
 */
import { expect, it } from "vitest";
import type { NewLaneEvent } from "@/lib/lane-events";
import { storageFailureOf } from "@/lib/storage-errors";
import { EventBus } from "../events/event-bus";
import { EventLog } from "../events/event-log";
import { capDatabasePages, databasePerFile } from "../store/db.testing";
import { EventOutbox } from "./event-outbox";

const store = databasePerFile("laneboard-event-outbox-");
const fillDatabase = (full: boolean) => capDatabasePages(store.db, full ? 0 : null);

/** A warning too big for the free room left in the database's last page. */
const warning = (name: string): NewLaneEvent => ({ type: "warning", laneId: null, payload: { failureClass: "infra", message: `${name} ${"x".repeat(20_000)}` } });
const stored = async () => (await store.db.laneEvent.findMany({ orderBy: { id: "asc" } })).map((r) => (JSON.parse(r.payload) as { message: string }).message.split(" ")[0]);

it("keeps events refused by a full database, writes each once and in order when room returns, and drops one the log refuses for good", async () => {
  const log = new EventLog(store.db, new EventBus());
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
