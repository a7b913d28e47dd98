/**
 * A kill of a lane whose start storage holds back: the worker process is spawned, but the start's
 * records (the worker row's process, `starting → running`) wait in the supervisor's outbox behind
 * a write the database refused for a passing reason, for as long as it refuses. That is where a
 * disk that fills just after a spawn leaves a start. The kill acts on the process group at once
 * and answers; the lane's records land, in order and once, when storage takes writes again.
 *
 * The refused write is a real SQLITE_BUSY (another connection holds a scratch database's write
 * lock): a full disk would hold the records back the same way, but it also refuses new starts, so
 * only a busy database lets the test spawn the worker first, deterministically, and then keep the
 * records back for as long as it likes.
 */
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import { groupMembers } from "../processes/procfs";
import { laneEvents, ofType, SH } from "../recovery/lane-fixtures.testing";
import { nextEvent, runtimePerFile, shellPacket, waitForLane, waitForOutput } from "../testing/runtime-harness";

const h = runtimePerFile({ killGraceMs: 500 });
const opened: Database.Database[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

/** A write storage refuses (SQLITE_BUSY) until `release()`; kept and retried by the supervisor's outbox. */
async function holdWrites(dataDir: string): Promise<{ release(): void }> {
  const file = path.join(dataDir, "scratch.db");
  const holder = new Database(file);
  const writer = new Database(file, { timeout: 0 });
  opened.push(writer, holder);
  holder.exec("CREATE TABLE IF NOT EXISTS t (x)");
  holder.exec("BEGIN IMMEDIATE");
  await h.rt.supervisor.writes.send("a write the locked database refuses", async () => writer.prepare("INSERT INTO t VALUES (1)").run());
  return { release: () => holder.exec("COMMIT") };
}

it("kill stops a lane whose start records are held back, answers without waiting for them, and records the kill once they land", async () => {
  const { rt } = h;
  const hold = await holdWrites(h.dataDir);
  expect(rt.supervisor.writes.waiting).toBe(1);
  const lane = await rt.lanes.create(shellPacket(h.repoId, SH("echo spawned; exec sleep 600")));
  await waitForOutput(rt, lane.id, "spawned");
  // Spawned, but its start is not recorded: it waits behind the refused write.
  expect((await rt.lanes.get(lane.id)).state).toBe("starting");
  const proc = await rt.db.process.findFirstOrThrow({ where: { laneId: lane.id, role: "worker" } });
  expect(groupMembers(proc.pgid!).length).toBeGreaterThan(0);

  const killed = await rt.lanes.kill(lane.id, { graceMs: 500 });
  expect(killed.state).toBe("killed");
  expect(groupMembers(proc.pgid!)).toEqual([]);
  expect(rt.supervisor.writes.waiting).toBeGreaterThan(1);

  // Storage takes writes again: the start's records land, the lane stays killed, and says so once.
  const killedEvent = nextEvent(rt, "lane.killed", lane.id);
  hold.release();
  await killedEvent;
  // The start itself is over once its last record found the lane killed.
  await waitForLane(rt, lane.id, () => rt.supervisor.writes.waiting === 0);
  const events = await laneEvents(rt, lane.id);
  expect(ofType(events, "lane.killed")).toHaveLength(1);
  expect(ofType(events, "lane.started")).toEqual([]);
  expect(ofType(events, "lane.failed")).toEqual([]);
  expect(ofType(events, "lane.state_changed").map((e) => `${e.payload.from}→${e.payload.to}`)).toEqual(["queued→starting", "starting→killed"]);
  expect(ofType(events, "process.exited").map((e) => e.payload.processId)).toEqual([proc.id]);
  const at = (type: string) => events.findIndex((e) => e.type === type);
  expect(at("process.exited")).toBeLessThan(at("lane.killed"));
  expect((await rt.lanes.get(lane.id)).state).toBe("killed");
  expect((await rt.supervisor.get(proc.id)).status).toBe("killed");
}, 120_000);
