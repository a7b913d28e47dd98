/** Row → API view mapping for lanes (lib/api.ts `LaneView`). */
import type { LaneView } from "@/lib/api";
import type { LaneState } from "@/lib/lane-state";
import { checksByLevel, parseCheckRuns } from "../checks/check-runs";
import type { LaneRow } from "../records/lane-store";

export interface LaneViewExtras {
  lastEvent: { id: number; type: string; at: Date } | null;
  currentProcessId: string | null;
  queuePosition: number | null;
}

export function toLaneView(lane: LaneRow, extras: LaneViewExtras): LaneView {
  return {
    id: lane.id,
    repoId: lane.repoId,
    slug: lane.slug,
    objective: lane.objective,
    engine: lane.engine,
    state: lane.state as LaneState,
    branch: lane.branch,
    baseBranch: lane.baseBranch,
    worktreePath: lane.worktreePath,
    ahead: lane.ahead,
    behind: lane.behind,
    lastExitCode: lane.lastExitCode,
    attempt: lane.attempt,
    checks: checksByLevel(parseCheckRuns(lane.checks)),
    lastEvent: extras.lastEvent ? { id: extras.lastEvent.id, type: extras.lastEvent.type, at: extras.lastEvent.at.toISOString() } : null,
    currentProcessId: extras.currentProcessId,
    queuePosition: extras.queuePosition,
    createdAt: lane.createdAt.toISOString(),
    startedAt: lane.startedAt?.toISOString() ?? null,
    endedAt: lane.endedAt?.toISOString() ?? null,
  };
}
