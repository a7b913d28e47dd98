import { describe, expect, it } from "vitest";
import type { BoardResponse } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";
import { laneViewFixture } from "@/lib/lane-view.testing";
import { appendLaneEvent, applyBoardEvent, applyBoardEvents, applyLaneEvent } from "./lane-patch";

const lane = laneViewFixture;

const ev = (id: number, e: Pick<LaneEvent, "type" | "payload">, laneId: string | null = "L1"): LaneEvent =>
  ({ id, v: 1, laneId, repoId: "R1", at: `2026-11-20T12:00:${String(id).padStart(2, "0")}.000Z`, ...e }) as LaneEvent;

describe("applyLaneEvent", () => {
  it("moves the state and records the last event", () => {
    const next = applyLaneEvent(lane(), ev(6, { type: "lane.state_changed", payload: { from: "running", to: "checking" } }));
    expect(next.state).toBe("checking");
    expect(next.lastEvent).toEqual({ id: 6, type: "lane.state_changed", at: "2026-11-20T12:00:06.000Z" });
  });

  it("ignores events that are not newer than the view, or about another lane", () => {
    const l = lane();
    expect(applyLaneEvent(l, ev(5, { type: "lane.state_changed", payload: { from: "running", to: "failed" } }))).toBe(l);
    expect(applyLaneEvent(l, ev(9, { type: "lane.state_changed", payload: { from: "running", to: "failed" } }, "L2"))).toBe(l);
  });

  it("records checks per level: running, then red or green", () => {
    let l = applyLaneEvent(lane(), ev(6, { type: "check.started", payload: { processId: "P2", level: "targeted", command: ["npm", "test"] } }));
    expect(l.checks.targeted).toMatchObject({ status: "running", exitCode: null });
    l = applyLaneEvent(l, ev(7, { type: "lane.red", payload: { level: "targeted", command: ["npm", "test"], exitCode: 1, durationMs: 900, failureClass: "test" } }));
    expect(l.checks.targeted).toMatchObject({ status: "red", exitCode: 1, durationMs: 900 });
    l = applyLaneEvent(l, ev(8, { type: "lane.green", payload: { level: "package", command: ["npm", "run", "build"], durationMs: 50 } }));
    expect(l.checks.package).toMatchObject({ status: "green", exitCode: 0 });
    expect(l.checks.targeted?.status).toBe("red");
  });

  it("takes freshness, queue position and exit codes from their events", () => {
    let l = applyLaneEvent(lane(), ev(6, { type: "branch.stale_against_main", payload: { ahead: 2, behind: 1, baseBranch: "main" } }));
    expect([l.ahead, l.behind]).toEqual([2, 1]);
    l = applyLaneEvent(l, ev(7, { type: "lane.failed", payload: { exitCode: 3, signal: null, failureClass: "test", reason: "red" } }));
    expect(l.lastExitCode).toBe(3);
    expect(l.endedAt).toBe("2026-11-20T12:00:07.000Z");
    l = applyLaneEvent(l, ev(8, { type: "lane.queued", payload: { reason: "restart", position: 2 } }));
    expect(l.queuePosition).toBe(2);
    l = applyLaneEvent(l, ev(9, { type: "lane.state_changed", payload: { from: "queued", to: "starting" } }));
    expect(l.queuePosition).toBeNull();
  });
});

describe("applyBoardEvent", () => {
  const board: BoardResponse = { repos: [{ id: "R1", path: "/r", name: "r", mainBranch: "main", createdAt: "x" }], lanes: [lane(), lane({ id: "L2" })], cursor: 5 };

  it("patches only the lane the event is about and returns the same board when nothing changed", () => {
    const next = applyBoardEvent(board, ev(6, { type: "lane.state_changed", payload: { from: "running", to: "finished" } }));
    expect(next.lanes[0]?.state).toBe("finished");
    expect(next.lanes[1]).toBe(board.lanes[1]);
    expect(applyBoardEvent(board, ev(6, { type: "lane.ready", payload: { workerId: "W" } }, "nope"))).toBe(board);
  });

  it("adds a newly registered repo once", () => {
    const e = ev(6, { type: "repo.registered", payload: { path: "/s", name: "s", mainBranch: "trunk" } }, null);
    const withRepo = applyBoardEvent(board, { ...e, repoId: "R2" });
    expect(withRepo.repos.map((r) => r.id)).toEqual(["R1", "R2"]);
    expect(applyBoardEvent(withRepo, { ...e, repoId: "R2" })).toBe(withRepo);
  });
});

describe("applyBoardEvents", () => {
  const board: BoardResponse = { repos: [], lanes: [lane(), lane({ id: "L2" }), lane({ id: "L3" })], cursor: 5 };

  it("applies a batch as the events one by one would, each lane's in id order, untouched lanes kept as they were", () => {
    const batch = [
      ev(8, { type: "lane.state_changed", payload: { from: "checking", to: "finished" } }),
      ev(6, { type: "lane.state_changed", payload: { from: "running", to: "checking" } }, "L2"),
      ev(7, { type: "lane.state_changed", payload: { from: "running", to: "checking" } }),
      ev(9, { type: "branch.freshness", payload: { ahead: 2, behind: 1, baseBranch: "main" } }, "L2"),
    ];
    const one = [...batch].sort((x, y) => x.id - y.id).reduce(applyBoardEvent, board);
    const together = applyBoardEvents(board, batch);
    expect(together).toEqual(one);
    expect(together.lanes[0]).toMatchObject({ state: "finished", lastEvent: { id: 8 } });
    expect(together.lanes[1]).toMatchObject({ state: "checking", ahead: 2, behind: 1 });
    expect(together.lanes[2]).toBe(board.lanes[2]);
    expect(applyBoardEvents(together, batch)).toBe(together); // nothing newer: the same board
  });
});

describe("appendLaneEvent", () => {
  it("appends newer events only", () => {
    const a = ev(6, { type: "lane.ready", payload: { workerId: "W" } });
    const list = appendLaneEvent([], a);
    expect(list).toEqual([a]);
    expect(appendLaneEvent(list, a)).toBe(list);
  });
});
