/**
 * The `inspect-workspace` recipe of a phantom completion (server/checks/recovery-recipes.ts):
 * an agent reported success and its worktree showed nothing. Instead of paying for a second agent
 * run, look once more, cheaply (two or three git calls and one event query), and return what a
 * person needs to decide: whether the work appeared after the check, and what the agent claimed.
 */
import type { Db } from "../store/db";
import type { LaneRow } from "../records/lane-store";
import { detectPhantomCompletion } from "../workers/workspace-binding";
import { laneStartPoint } from "../events/start-point";

export interface WorkspaceInspection {
  /** The worktree now has commits since the start point or uncommitted changes. */
  workFound: boolean;
  /** One sentence for the escalation. */
  finding: string;
  /** Evidence lines: head, commits, changed paths, the agent's final message. */
  evidence: string[];
}

/** Longest final message quoted (chars). */
const MAX_CLAIM_CHARS = 300;

/**
 * Re-read a phantom lane's worktree and the agent's final message. Never throws: a git failure
 * becomes the finding.
 */
export async function inspectWorkspace(db: Db, lane: Pick<LaneRow, "id" | "worktreePath" | "baseSha" | "baseBranch">): Promise<WorkspaceInspection> {
  const claim = await db.laneEvent.findFirst({ where: { laneId: lane.id, type: "worker.activity", payload: { contains: '"final_message"' } }, orderBy: { id: "desc" }, select: { payload: true } });
  const said = claim ? (JSON.parse(claim.payload) as { detail?: string }).detail : undefined;
  const claimLine = said ? [`agent's final message: ${said.slice(0, MAX_CLAIM_CHARS)}`] : ["the agent left no final message"];
  const start = await laneStartPoint(db, lane);
  if (!start) return { workFound: false, finding: "the lane has no start point to compare with", evidence: claimLine };
  try {
    const now = await detectPhantomCompletion(lane.worktreePath, start);
    const head = `HEAD ${now.head.slice(0, 12)}, start point ${start.slice(0, 12)} (${lane.baseBranch})`;
    if (now.phantom) return { workFound: false, finding: `still no commit and no change in ${lane.worktreePath}`, evidence: [head, ...claimLine] };
    const what = now.ahead > 0 ? `${now.ahead} commit(s) since the start point` : `${now.changed.length} uncommitted change(s)`;
    return { workFound: true, finding: `the work appeared after the check (${what}): review it`, evidence: [head, ...now.changed.map((l) => `changed: ${l}`), ...claimLine] };
  } catch (err) {
    return { workFound: false, finding: `could not read the worktree: ${(err as Error).message}`, evidence: claimLine };
  }
}
