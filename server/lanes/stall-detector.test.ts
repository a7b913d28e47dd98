/**
 * Stall detection on a real runtime: a real shell lane that goes quiet is flagged `stalled` in
 * its summary with a `lane.stalled` event, and un-flagged when it prints again; a lane waiting for
 * a prompt is not. Then the cost model with 1,000 lanes and a clock the test drives: an output
 * costs no scan, and a timer tick looks only at the lanes that stalled, plus one.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { LaneEvent, LaneEventOf } from "@/lib/lane-events";
import { shellPacket, startTestRuntime, waitForLane, waitForOutput, type TestRuntime } from "../testing/runtime-harness";
import { laneEvents, waitForEvent } from "../workers/worker.testing";
import { StallDetector } from "./stall-detector";

let h: TestRuntime | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const READER = ["sh", "-c", 'echo start; while read l; do echo "got:$l"; done'];

describe("stall detection", () => {
  it("flags a silent live lane stalled (summary and event), clears it on output; a lane waiting for a prompt is never stalled", async () => {
    h = await startTestRuntime({ stallAfterMs: 400 });
    const { rt, repoId } = h;
    // Waits for a prompt (an interactive worker at ready_for_prompt): silence is expected.
    const waiting = await rt.lanes.create(shellPacket(repoId, READER));
    const w = await waitForLane(rt, waiting.id, (l) => l.worker?.state === "running");
    rt.workers.attachSession(w.worker!.id, { deliverPrompt: async () => undefined, resolveTrust: async () => undefined });
    await rt.workers.signal(w.worker!.id, { kind: "ready_for_prompt" });
    const waitingSince = await rt.events.latestId();
    // Goes quiet after its first line, started after the waiting one (so it stalls later than that one would).
    const quiet = await rt.lanes.create(shellPacket(repoId, READER));
    await waitForOutput(rt, quiet.id, "start");
    const ready = await waitForEvent(rt, quiet.id, "lane.ready");
    // (On a loaded machine a slow start may stall, and end, before the worker runs: wait for one after it.)
    const view = await waitForLane(rt, quiet.id, (l) => (l.summary?.stalled?.eventId ?? 0) > ready.id, 20_000);
    const stalled = (await laneEvents(rt, quiet.id)).find((e) => e.id === view.summary!.stalled!.eventId) as LaneEventOf<"lane.stalled">;
    expect(stalled).toMatchObject({ type: "lane.stalled", payload: { thresholdMs: 400 } });
    expect(stalled.payload.idleMs).toBeGreaterThanOrEqual(400);
    expect(view.summary).toMatchObject({ phase: "working", stalled: { since: stalled.payload.since }, nextAction: { action: "inspect_stall" } });
    expect(rt.stalls.isStalled(quiet.id)).toBe(true);
    // (A slow start on a loaded machine may stall before it waits; once it waits, never.)
    expect((await laneEvents(rt, waiting.id)).filter((e: LaneEvent) => e.id > waitingSince && e.type === "lane.stalled")).toEqual([]);
    expect(rt.stalls.isStalled(waiting.id)).toBe(false);

    await rt.supervisor.writeStdin(view.currentProcessId!, "wake\n");
    await waitForLane(rt, quiet.id, (l) => l.summary?.stalled === null && (l.summary?.eventId ?? 0) > stalled.id);
    const ended = (await laneEvents(rt, quiet.id)).find((e) => e.id > stalled.id && e.type === "lane.stall_ended") as LaneEventOf<"lane.stall_ended">;
    expect(ended.payload.idleMs).toBeGreaterThanOrEqual(400);
    expect((await rt.lanes.get(quiet.id)).summary).toMatchObject({ stalled: null, nextAction: { action: "wait" } });
    // Killed: no longer watched, the summary is not stalled.
    await rt.lanes.kill(quiet.id, { graceMs: 200 });
    await rt.lanes.kill(waiting.id, { graceMs: 200 });
    expect((await rt.lanes.get(quiet.id)).summary!.stalled).toBeNull();
  });

  it("1,000 live lanes: output is O(1) per lane, and a tick examines only the stalled lanes plus one", async () => {
    h = await startTestRuntime({ stallAfterMs: 0 });
    const { rt, repoId } = h;
    const ids = Array.from({ length: 1000 }, (_, i) => `stall-${String(i).padStart(4, "0")}`);
    await rt.db.lane.createMany({
      data: ids.map((id) => ({ id, repoId, slug: id, objective: id, branch: `lane/${id}`, baseBranch: "main", worktreePath: `/nonexistent/${id}`, engine: "shell", packet: "{}", state: "running" })),
    });
    let now = 1_000_000;
    const detector = new StallDetector({ db: rt.db, bus: rt.bus, events: rt.events, stallAfterMs: 60_000, now: () => now });
    try {
      await detector.start();
      expect(detector.watching).toBe(1000);
      now += 30_000;
      // Every lane but the first ten prints something.
      for (const laneId of ids.slice(10)) rt.bus.emit("process.output", { laneId, processId: "p", role: "worker", chunks: [] });
      expect(detector.stats).toEqual({ ticks: 0, examined: 0 });
      now += 30_000; // the first ten are overdue now, the rest have 30 s left
      detector.tick();
      expect(detector.stats).toEqual({ ticks: 1, examined: 11 });
      await rt.events.flush();
      const flagged = await rt.db.laneEvent.findMany({ where: { type: "lane.stalled" }, select: { laneId: true } });
      expect(flagged.map((e) => e.laneId).sort()).toEqual(ids.slice(0, 10));
      expect(ids.slice(0, 10).every((id) => detector.isStalled(id))).toBe(true);
      detector.tick(); // nothing new is due: one lane looked at
      expect(detector.stats).toEqual({ ticks: 2, examined: 12 });
      rt.bus.emit("process.output", { laneId: ids[3]!, processId: "p", role: "worker", chunks: [] });
      await rt.events.flush();
      expect(await rt.db.laneEvent.count({ where: { type: "lane.stall_ended", laneId: ids[3]! } })).toBe(1);
      expect(detector.isStalled(ids[3]!)).toBe(false);
    } finally {
      detector.stop();
    }
  });
});
