/**
 * The scheduler's stop on a real runtime: a lane that finishes as the server stops is settled
 * before the stop resolves. What a finished lane produced is read from git off the scheduler's
 * chain, and its settle joins the chain only when the read is done; a stop that drained only the
 * chain resolved while the read ran, and the settle then ran against a closed database.
 */
import { describe, expect, it } from "vitest";
import { runtimePerTest, shellPacket } from "../testing/runtime-harness";

const h = runtimePerTest();

describe("scheduler stop", () => {
  it("waits for a finished lane's settle whose git read was still running when the stop began", async () => {
    const { rt } = h;
    const scheduler = rt.cluster.scheduler.local!;
    let stopped: Promise<void> | null = null;
    const lane = await rt.lanes.create(shellPacket(h.repoId, ["true"]));
    // Stopped in the same turn as the scheduler hears `lane.finished` (its listener runs first: it
    // subscribed when the runtime was made), so the read has just begun.
    await new Promise<void>((resolve) => {
      const off = rt.bus.on("lane.event", (e) => {
        if (e.type !== "lane.finished" || e.laneId !== lane.id) return;
        off();
        stopped = scheduler.stop();
        resolve();
      });
    });
    await stopped;
    const row = await rt.db.lane.findUniqueOrThrow({ where: { id: lane.id }, select: { produced: true } });
    expect(row.produced && JSON.parse(row.produced)).toEqual({ commits: [], files: [] });
  });
});
