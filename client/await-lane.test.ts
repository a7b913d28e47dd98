/**
 * The client's wait longer than one long poll: calls in a row, each for what is left (at most
 * MAX_AWAIT_MS), the first answer that is not a timeout returned with the total wait. The server's
 * side of each call is covered by the await route's tests and the CLI's; here the server's answers
 * are scripted and the clock is the calls' own, because a real wait past MAX_AWAIT_MS takes minutes.
 */
import { describe, expect, it } from "vitest";
import type { LaneView } from "@/lib/api";
import { MAX_AWAIT_MS, type AwaitLaneResponse } from "@/lib/lane-await";
import { awaitLane } from "./await-lane";
import type { LaneboardApi } from "./laneboard-api";

/** An API whose long poll answers `outcomes` in turn, each after waiting what it was asked (on `clock`). */
function scripted(outcomes: AwaitLaneResponse["outcome"][]) {
  const clock = { ms: 0 };
  const asked: number[] = [];
  const api = {
    awaitLane: async (laneId: string, _targets: unknown, timeoutMs: number): Promise<AwaitLaneResponse> => {
      asked.push(timeoutMs);
      const outcome = outcomes.shift() ?? "timeout";
      clock.ms += outcome === "timeout" ? timeoutMs : 10;
      return { laneId, outcome, matched: outcome === "reached" ? ["finished"] : [], waitedMs: timeoutMs, lane: { id: laneId } as LaneView };
    },
  } as unknown as LaneboardApi;
  return { api, asked, now: () => clock.ms };
}

describe("awaitLane (client)", () => {
  it("waits past one long poll's limit in several calls, each for what is left, and reports the total wait", async () => {
    const s = scripted([]);
    const r = await awaitLane(s.api, "l1", ["finished"], 2.5 * MAX_AWAIT_MS, s.now);
    expect(s.asked).toEqual([MAX_AWAIT_MS, MAX_AWAIT_MS, MAX_AWAIT_MS / 2]);
    expect(r).toMatchObject({ laneId: "l1", outcome: "timeout", waitedMs: 2.5 * MAX_AWAIT_MS });
  });

  it("returns the first answer that is not a timeout, with the time waited over all calls", async () => {
    const s = scripted(["timeout", "reached", "timeout"]);
    const r = await awaitLane(s.api, "l1", ["finished"], 10 * MAX_AWAIT_MS, s.now);
    expect(s.asked).toHaveLength(2);
    expect(r).toMatchObject({ outcome: "reached", matched: ["finished"], waitedMs: MAX_AWAIT_MS + 10 });
  });

  it("asks once with 0 for a timeout of 0 (the state now)", async () => {
    const s = scripted(["ended"]);
    expect(await awaitLane(s.api, "l1", ["finished"], 0, s.now)).toMatchObject({ outcome: "ended" });
    expect(s.asked).toEqual([0]);
  });
});
