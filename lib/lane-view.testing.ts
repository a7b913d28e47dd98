/** Test fixture: a plausible LaneView with overrides. For tests only (never imported by production code). */
import type { LaneView } from "./api";

export function laneViewFixture(over: Partial<LaneView> = {}): LaneView {
  return {
    id: "L1",
    repoId: "R1",
    slug: "fix-parser",
    objective: "Fix the parser",
    engine: "script",
    state: "running",
    branch: "lane/fix-parser",
    baseBranch: "main",
    worktreePath: "/tmp/wt/fix-parser",
    ahead: 0,
    behind: 0,
    lastExitCode: null,
    attempt: 1,
    nodeId: null,
    checks: {},
    lastEvent: { id: 5, type: "lane.started", at: "2026-11-20T12:00:00.000Z" },
    currentProcessId: "P1",
    queuePosition: null,
    createdAt: "2026-11-20T11:59:00.000Z",
    startedAt: "2026-11-20T12:00:00.000Z",
    endedAt: null,
    ...over,
  };
}
