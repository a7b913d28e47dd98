import { describe, expect, it } from "vitest";
import { boardQueryToParams, countLanes, DEFAULT_BOARD_QUERY, filterLanes, groupByColumn, parseBoardQuery, sortLanes, toBoardLane } from "./board-query";
import { laneViewFixture as lane } from "./lane-view.testing";

const green = { level: "package" as const, status: "green" as const, command: ["t"], exitCode: 0, durationMs: 1, at: "2026-11-20T12:00:00.000Z" };
const lanes = [
  lane({ id: "a1", repoId: "R1", branch: "lane/fix-login", objective: "Fix the login form", state: "running" }),
  lane({ id: "b2", repoId: "R2", branch: "lane/add-clamp", objective: "Add clamp()", state: "failed", engine: "claude", lastEvent: { id: 9, type: "lane.failed", at: "2026-11-20T13:00:00.000Z" } }),
  lane({ id: "c3", repoId: "R1", branch: "lane/docs", objective: "Write docs", state: "finished", checks: { package: green } }),
  lane({ id: "d4", repoId: "R1", branch: "lane/queue", objective: "Queue me", state: "queued", lastEvent: null, startedAt: null, createdAt: "2026-11-20T14:00:00.000Z" }),
].map(toBoardLane);

describe("parseBoardQuery / boardQueryToParams", () => {
  it("round-trips a view choice through the URL", () => {
    const q = { ...DEFAULT_BOARD_QUERY, q: "login", repo: ["R1", "R2"], state: ["failed"], engine: ["claude"], green: "package" as const, needs: ["any"], view: "table" as const, sort: "created" as const };
    expect(parseBoardQuery(boardQueryToParams(q))).toEqual(q);
  });

  it("falls back to defaults for unknown values instead of failing", () => {
    expect(parseBoardQuery(new URLSearchParams("view=nope&sort=zzz&green=blue"))).toEqual(DEFAULT_BOARD_QUERY);
    expect(boardQueryToParams(DEFAULT_BOARD_QUERY).toString()).toBe("");
  });
});

describe("filterLanes", () => {
  const ids = (q: Partial<typeof DEFAULT_BOARD_QUERY>) => filterLanes(lanes, { ...DEFAULT_BOARD_QUERY, ...q }).map((l) => l.lane.id);
  it("searches branch, objective and lane id, every word", () => {
    expect(ids({ q: "login" })).toEqual(["a1"]);
    expect(ids({ q: "CLAMP add" })).toEqual(["b2"]);
    expect(ids({ q: "c3" })).toEqual(["c3"]);
  });
  it("filters by repo, state, engine, green level and need", () => {
    expect(ids({ repo: ["R2"] })).toEqual(["b2"]);
    expect(ids({ state: ["running", "queued"] })).toEqual(["a1", "d4"]);
    expect(ids({ engine: ["claude"] })).toEqual(["b2"]);
    expect(ids({ green: "targeted" })).toEqual(["c3"]);
    expect(ids({ green: "workspace" })).toEqual([]);
    expect(ids({ needs: ["any"] })).toEqual(["b2"]);
    expect(ids({ needs: ["trust"] })).toEqual([]);
  });
});

describe("sortLanes, groupByColumn, countLanes", () => {
  it("sorts by last activity, newest first", () => {
    expect(sortLanes(lanes, "activity").map((l) => l.lane.id)).toEqual(["d4", "b2", "a1", "c3"]);
  });
  it("keeps lanes active within the same 10-second step in their order by id: a busy agent does not jump over another at each event", () => {
    const at = (id: string, time: string) => toBoardLane(lane({ id, state: "running", lastEvent: { id: 1, type: "worker.activity", at: time } }));
    const order = (...ls: ReturnType<typeof at>[]) => sortLanes(ls, "activity").map((l) => l.lane.id);
    // x reported 9 s after y, in the same step: by id.
    expect(order(at("y", "2026-11-20T12:00:00.500Z"), at("x", "2026-11-20T12:00:09.500Z"))).toEqual(["x", "y"]);
    expect(order(at("x", "2026-11-20T12:00:00.500Z"), at("y", "2026-11-20T12:00:09.500Z"))).toEqual(["x", "y"]);
    // y's next report falls in the next step: it moves up.
    expect(order(at("x", "2026-11-20T12:00:09.500Z"), at("y", "2026-11-20T12:00:10.000Z"))).toEqual(["y", "x"]);
  });
  it("puts lanes that need a person in their own column", () => {
    const g = groupByColumn(lanes);
    expect(g.needs_you.map((l) => l.lane.id)).toEqual(["b2"]);
    expect(g.running.map((l) => l.lane.id)).toEqual(["a1"]);
    expect(g.queued.map((l) => l.lane.id)).toEqual(["d4"]);
    expect(g.done.map((l) => l.lane.id)).toEqual(["c3"]);
  });
  it("counts per state and per need", () => {
    const c = countLanes(lanes);
    expect(c.byState.get("running")).toBe(1);
    expect(c.needsYou).toBe(1);
    expect(c.byNeed.get("red")).toBe(1);
  });
});

describe("toBoardLane", () => {
  it("derives once per lane view object, and again for a changed lane (a new object)", () => {
    const view = lane({ id: "z9", state: "failed" });
    expect(toBoardLane(view)).toBe(toBoardLane(view));
    const changed = { ...view, state: "finished" as const };
    expect(toBoardLane(changed)).not.toBe(toBoardLane(view));
    expect(toBoardLane(changed).attention).toBeNull();
    expect(toBoardLane(view).attention?.kind).toBe("red");
  });
});
