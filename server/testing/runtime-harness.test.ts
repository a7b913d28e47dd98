/**
 * The harness's wait for a lane: a state counts only once its events are in the log, since a
 * transition writes the lane's row before it appends `lane.state_changed` and the closing event
 * (server/records/lane-store.ts), and a test that waited for a lane to fail reads why from them.
 */
import { describe, expect, it } from "vitest";
import { runtimePerFile, shellPacket, stateLogged, waitForLane } from "./runtime-harness";

describe("waitForLane", () => {
  const h = runtimePerFile();

  it("counts a state as reached only once its lane.state_changed is logged", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "60"]));
    const running = await waitForLane(h.rt, lane.id, (l) => l.state === "running");
    expect(await stateLogged(h.rt, running)).toBe(true);
    // The row says failed, its events are not stored yet: not reached.
    expect(await stateLogged(h.rt, { id: lane.id, state: "failed" })).toBe(false);
    await h.rt.events.append({ type: "lane.state_changed", laneId: lane.id, repoId: h.repoId, payload: { from: "running", to: "failed" } });
    expect(await stateLogged(h.rt, { id: lane.id, state: "failed" })).toBe(true);
    expect(await stateLogged(h.rt, { id: lane.id, state: "running" })).toBe(false);
  });
});
