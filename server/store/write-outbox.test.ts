/**
 * WriteOutbox's awaited writes against a real database that is full (SQLite's max_page_count
 * pinned to the pages it has, so a write that needs a page fails with SQLITE_FULL as on a full
 * disk): an awaited write waits behind the writes kept before it and resolves with its result
 * once room returns; an error that is not a storage refusal reaches its caller and holds nothing
 * back. (Fire-and-forget writes: server/processes/event-outbox.test.ts.)
 */
import { expect, it } from "vitest";
import type { NewLaneEvent } from "@/lib/lane-events";
import { EventBus } from "../events/event-bus";
import { EventLog } from "../events/event-log";
import { capDatabasePages, databasePerTest } from "./db.testing";
import { WriteOutbox } from "./write-outbox";

const store = databasePerTest("laneboard-write-outbox-");
const fillDatabase = (full: boolean) => capDatabasePages(store.db, full ? 0 : null);

/** A warning too big for the free room left in the database's last page. */
const warning = (name: string): NewLaneEvent => ({ type: "warning", laneId: null, payload: { failureClass: "infra", message: `${name} ${"x".repeat(20_000)}` } });
const stored = async () => (await store.db.laneEvent.findMany({ orderBy: { id: "asc" } })).map((r) => (JSON.parse(r.payload) as { message: string }).message.split(" ")[0]);
const invalid = { type: "warning", laneId: null, payload: { failureClass: "no-such-class" } } as unknown as NewLaneEvent;

it("holds an awaited write refused by a full database until room returns, behind the writes kept before it, and resolves with its result", async () => {
  const log = new EventLog(store.db, new EventBus());
  const outbox = new WriteOutbox({ retryMs: 3_600_000 }); // flushed by hand only

  expect((await outbox.until(() => log.append(warning("a")))).type).toBe("warning");
  await fillDatabase(true);
  await outbox.send("b", () => log.append(warning("b")));
  let landed: string | null = null;
  const c = outbox.until(() => log.append(warning("c"))).then((e) => (landed = (e.payload as { message: string }).message.split(" ")[0]!));
  await Promise.all([outbox.flush(), outbox.flush()]); // still full: both kept
  expect(outbox.waiting).toBe(2);
  expect(landed).toBeNull();

  await fillDatabase(false);
  await outbox.flush();
  await c;
  expect(landed).toBe("c");
  expect(outbox.waiting).toBe(0);
  expect(await stored()).toEqual(["a", "b", "c"]);
  outbox.stop();
});

it("throws to the awaiting caller an error that is not a storage refusal, at once or once its turn comes, without holding back later writes", async () => {
  const log = new EventLog(store.db, new EventBus());
  const outbox = new WriteOutbox({ retryMs: 10 }); // retried by its own timer

  await expect(outbox.until(() => log.append(invalid))).rejects.toThrow();
  expect(outbox.waiting).toBe(0);

  await fillDatabase(true);
  await outbox.send("d", () => log.append(warning("d"))); // refused: kept, so the two below queue behind it
  const bad = outbox.until(() => log.append(invalid));
  const after = outbox.until(() => log.append(warning("e")));
  expect(outbox.waiting).toBe(3);
  await fillDatabase(false);
  await expect(bad).rejects.toThrow();
  await after;
  expect(await stored()).toEqual(["d", "e"]);
  outbox.stop();
});
