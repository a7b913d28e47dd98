import { describe, expect, it } from "vitest";
import type { BoardResponse, LaneView } from "./api";
import { ATTENTION_SHOWN, digestBoard, firstScreen, firstScreenCounts } from "./board-first-screen";
import { countLanes, DEFAULT_BOARD_QUERY, filterLanes, sortLanes, toBoardLane, type BoardLane, type BoardQuery } from "./board-query";
import { sortAttention, type Attention } from "./lane-attention";
import { laneViewFixture as lane } from "./lane-view.testing";

// 60 lanes over two repos: every fourth failed (needs a person), the rest finished, running or
// queued, with activity times out of creation order so the two sorts differ.
const STATES = ["failed", "finished", "running", "queued"] as const;
const lanes: LaneView[] = Array.from({ length: 60 }, (_, i) => {
  const at = new Date(Date.UTC(2026, 10, 20, 12, (i * 37) % 60, i)).toISOString();
  return lane({
    id: `L${String(i).padStart(2, "0")}`,
    repoId: i % 3 === 0 ? "R2" : "R1",
    branch: `lane/task-${i}`,
    objective: i % 5 === 0 ? `Fix the parser ${i}` : `Task ${i}`,
    state: STATES[i % 4]!,
    createdAt: new Date(Date.UTC(2026, 10, 20, 11, 0, i)).toISOString(),
    lastEvent: { id: i + 1, type: "lane.state_changed", at },
  });
});
const board: BoardResponse = { repos: [], lanes, cursor: 61 };

/** What the board computes from every lane (components/board.tsx), to hold the first screen to. */
function fromEveryLane(query: BoardQuery) {
  const all = lanes.map(toBoardLane);
  const attention = sortAttention(all.filter((l): l is BoardLane & { attention: Attention } => l.attention !== null));
  return { counts: countLanes(all), attention: attention.map((l) => l.lane.id), shown: sortLanes(filterLanes(all, query), query.sort).map((l) => l.lane.id) };
}

describe("firstScreen", () => {
  const queries: [string, BoardQuery][] = [
    ["the default view", DEFAULT_BOARD_QUERY],
    ["a search sorted by creation", { ...DEFAULT_BOARD_QUERY, q: "parser", sort: "created" }],
    ["a repo and state filter in the table", { ...DEFAULT_BOARD_QUERY, repo: ["R1"], state: ["finished", "running"], view: "table" }],
  ];
  for (const [name, query] of queries) {
    it(`shows what the whole board shows on its first screen: ${name}`, () => {
      const screen = firstScreen(digestBoard(board), query);
      const whole = fromEveryLane(query);
      expect(screen.viewLanes.map((l) => l.id)).toEqual(whole.shown.slice(0, screen.viewLanes.length));
      expect(screen.viewLanes.length).toBe(Math.min(whole.shown.length, query.view === "table" ? 32 : 12));
      expect(screen.attentionLanes.map((l) => l.id)).toEqual(whole.attention.slice(0, ATTENTION_SHOWN));
      expect(screen.shown).toBe(whole.shown.length);
      expect(screen.total).toBe(60);
      expect(firstScreenCounts(screen)).toEqual(whole.counts);
      expect(screen.cursor).toBe(61);
    });
  }

  it("carries no lanes of the columns view (its columns are measured first) but still every count", () => {
    const screen = firstScreen(digestBoard(board), { ...DEFAULT_BOARD_QUERY, view: "columns" });
    expect(screen.viewLanes).toEqual([]);
    expect(screen.needsYou).toBe(15);
    expect(screen.shown).toBe(60);
  });
});
