/**
 * A lane's worktree on the node that runs it. Each node keeps worktrees in its own data dir; a
 * lane created on one node (its worktree checked out there after the create answered) or moved to
 * another (a restart, a lost node)
 * is checked out again from its branch in this node's data dir when it starts here, and the row
 * points at the new path. Uncommitted changes of the old worktree stay behind: the lane's branch
 * is the starting point.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { checkoutWorktree } from "../git/git";
import type { Db } from "../store/db";
import { updateLane, type LaneRow } from "../records/lane-store";
import type { WorktreeCheckouts } from "./worktree-checkouts";

/** Is `p` inside `dir` (not equal to it)? */
const inside = (p: string, dir: string) => {
  const rel = path.relative(dir, p);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
};

/** What a lane's first start asks for its worktree (./worktree-checkouts.ts). */
export type FirstCheckout = Pick<WorktreeCheckouts, "ensure">;

/**
 * The lane with a worktree in `dataDir`, for its start. Its worktree path is there: on its first
 * attempt, the lane once the checkout begun at its create has made it (or made now, if it never
 * ran: {@link WorktreeCheckouts.ensure}); on a later one, as it is (a directory removed by hand
 * is the lane's own problem to report). Else the lane gets a new worktree of its branch
 * (`<dataDir>/worktrees/<repo>-<lane id prefix>`), written to the row.
 * @throws AppError from git (the checkout failed, the branch is gone, the path is occupied)
 */
export async function localWorktree(deps: { db: Db; dataDir: string; checkouts: FirstCheckout }, lane: LaneRow): Promise<LaneRow> {
  const { db, dataDir } = deps;
  if (inside(lane.worktreePath, dataDir)) {
    if (lane.attempt > 1) return lane;
    const repoPath = async () => (await db.repo.findUniqueOrThrow({ where: { id: lane.repoId } })).path;
    await deps.checkouts.ensure({ laneId: lane.id, repoId: lane.repoId, worktreePath: lane.worktreePath, branch: lane.branch }, repoPath);
    return lane;
  }
  const repo = await db.repo.findUniqueOrThrow({ where: { id: lane.repoId } });
  const worktreePath = path.join(dataDir, "worktrees", `${repo.name}-${lane.id.slice(0, 8)}`);
  if (!existsSync(worktreePath)) await checkoutWorktree(repo.path, worktreePath, lane.branch);
  return updateLane(db, lane.id, { worktreePath });
}
