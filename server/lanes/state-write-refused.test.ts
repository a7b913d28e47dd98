/**
 * A lane's state write lands but the database refuses the events that announce it (SQLite is
 * full between the two statements): nothing is lost. The events are kept and appended once the
 * database takes writes again, without a restart, so the lane never stands in a state no event
 * announced and the scheduler frees its slot (it learns of the end from `lane.state_changed`).
 * The same for a check run recorded in the lane's row whose `lane.green` is refused: the lane
 * settles once it lands, instead of staying `checking`.
 *
 * "Full" is SQLite's own SQLITE_FULL, reached with `PRAGMA max_page_count` on the real database
 * file: from then on a write that needs a new page is refused while one that rewrites a page in
 * place still lands, which is exactly the gap between the two writes, made deterministic (a
 * filling tmpfs reaches it only by chance; the tmpfs cases are in app/api/v1/disk-full.test.ts).
 */
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { storageFailureOf } from "@/lib/storage-errors";
import type { Db } from "../store/db";
import { WriteOutbox } from "../store/write-outbox";
import { appendAfterWrite } from "../events/append-after-write";
import type { Runtime } from "../runtime";
import { nextEvent, runtimePerFile, shellPacket, waitForLane } from "../testing/runtime-harness";
import { onPostgres } from "../testing/test-database";
import { laneEvents, ofType, SH } from "../recovery/lane-fixtures.testing";

/** Pages the database file has now. */
async function pageCount(db: Db): Promise<bigint> {
  const [row] = await db.$queryRawUnsafe<{ page_count: bigint }[]>("PRAGMA page_count");
  return row!.page_count;
}

/** No new database page from now on: use up the free pages and the room left in the event table. */
async function fillDatabase(rt: Runtime, db: Db): Promise<void> {
  await db.$queryRawUnsafe(`PRAGMA max_page_count = ${await pageCount(db)}`);
  // Largest first, then smaller, so the last page of the event table is full to the byte.
  for (const size of [2000, 200, 20, 0]) {
    for (;;) {
      const refused = await rt.events.append(warning("x".repeat(size))).then(() => null, (err: unknown) => err);
      if (refused === null) continue;
      expect(storageFailureOf(refused)).toBe("disk_full");
      break;
    }
  }
}

/** A `warning` event with `message` (its size sets the row's). */
const warning = (message: string) => ({ type: "warning" as const, laneId: null, payload: { failureClass: "infra" as const, message } });

/** Room again: SQLite's ceiling back at its default. */
async function freeDatabase(db: Db): Promise<void> {
  await db.$queryRawUnsafe("PRAGMA max_page_count = 4294967294");
}

const h = runtimePerFile({ workerCap: 1 });

describe.skipIf(onPostgres())("a lane's state write landed, its events refused (SQLite full)", () => {
  it("appends lane.state_changed and lane.finished once the database takes writes, and frees the lane's slot for the next lane", async () => {
    const { rt } = h;
    const db = rt.db;
    const first = await rt.lanes.create(shellPacket(h.repoId, SH("read go; echo bye")));
    const { currentProcessId } = await waitForLane(rt, first.id, (l) => l.state === "running" && l.currentProcessId !== null);
    // One worker slot: the second lane waits for the first to end.
    const second = await rt.lanes.create(shellPacket(h.repoId, SH("echo second")));
    await rt.scheduler.kick();
    expect((await rt.lanes.get(second.id)).state).toBe("queued");

    await fillDatabase(rt, db);
    await rt.supervisor.writeStdin(currentProcessId!, "go\n");
    // The lane's row takes its end in place; the events announcing it need a page there is none of.
    await expect.poll(async () => (await db.lane.findUniqueOrThrow({ where: { id: first.id } })).state, { timeout: 30_000 }).toBe("finished");
    expect(ofType(await laneEvents(rt, first.id), "lane.finished")).toEqual([]);

    const secondStarts = nextEvent(rt, "lane.started", second.id, 60_000);
    await freeDatabase(db);
    // Kept, not lost: each event once, in order, and the scheduler gave the slot to the next lane.
    await secondStarts;
    const events = await laneEvents(rt, first.id);
    const toFinished = ofType(events, "lane.state_changed").filter((e) => e.payload.to === "finished");
    expect(toFinished).toHaveLength(1);
    expect(ofType(events, "lane.finished")).toHaveLength(1);
    expect(ofType(events, "process.exited")).toHaveLength(1);
    const at = (id: number) => events.findIndex((e) => e.id === id);
    expect(at(ofType(events, "process.exited")[0]!.id)).toBeLessThan(at(toFinished[0]!.id));
    expect(at(toFinished[0]!.id)).toBeLessThan(at(ofType(events, "lane.finished")[0]!.id));
  }, 120_000);

  it("appends again only the events the database did not take (none doubled) once it takes writes", async () => {
    const { rt } = h;
    const db = rt.db;
    await fillDatabase(rt, db);
    // Two pages of room: a small event fits, one of 10 kB (three overflow pages) does not.
    await db.$queryRawUnsafe(`PRAGMA max_page_count = ${(await pageCount(db)) + 2n}`);
    const cursor = await rt.events.latestId();
    const writes = new WriteOutbox({ retryMs: 60_000 });
    const big = "b".repeat(10_000);
    await appendAfterWrite({ events: rt.events, supervisor: { writes } }, "two events", [warning("small"), warning(big)]);
    expect(writes.waiting).toBe(1);
    await freeDatabase(db);
    await writes.flush();
    expect(writes.waiting).toBe(0);
    const after = (await rt.events.listAfter(cursor)).events.filter((e) => e.type === "warning").map((e) => (e.payload as { message: string }).message);
    expect(after).toEqual(["small", big]);
  });

  it("a check whose lane.green the database refused settles its lane once the database takes writes", async () => {
    const { rt } = h;
    const db = rt.db;
    const go = `${h.repoPath}-check-go`;
    const lane = await rt.lanes.create(shellPacket(h.repoId, SH("echo worked"), { acceptance: [{ argv: SH(`while [ ! -e '${go}' ]; do sleep 0.05; done`) }] }));
    await waitForLane(rt, lane.id, (l) => l.state === "checking" && l.checks.targeted?.status === "running");
    await fillDatabase(rt, db);
    writeFileSync(go, "");
    // The run's result lands in the lane's row in place; the event saying so needs a new page.
    await expect.poll(async () => (JSON.parse((await db.lane.findUniqueOrThrow({ where: { id: lane.id } })).checks) as { status: string }[])[0]?.status, { timeout: 30_000 }).toBe("green");
    expect(ofType(await laneEvents(rt, lane.id), "lane.green")).toEqual([]);
    // The run's end goes on to settle the lane in its row; its events wait with lane.green.
    const finished = nextEvent(rt, "lane.finished", lane.id);
    await freeDatabase(db);
    await finished;
    expect((await rt.lanes.get(lane.id)).state).toBe("finished");
    const events = await laneEvents(rt, lane.id);
    expect(ofType(events, "lane.green")).toHaveLength(1);
    expect(ofType(events, "lane.finished")).toHaveLength(1);
  }, 120_000);
});
