/**
 * A lane's worktree on the node that runs it. Each node keeps worktrees in its own data dir. A
 * lane created on one node has its worktree checked out there after the create answered; a lane
 * moved to another node (a restart, a lost node) is checked out again from its branch in that
 * node's data dir when it starts there, and the row points at the new path. Uncommitted changes
 * of the old worktree stay behind: the lane's branch is the starting point.
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

/** What a lane's start asks for its worktree (./worktree-checkouts.ts). */
export type StartCheckout = Pick<WorktreeCheckouts, "ensure">;

/**
 * The lane with a worktree in `dataDir`, for its start. Its worktree path is there: the lane
 * once the checkout begun at its create has made it, or once it is made now from the branch when
 * it is not there ({@link WorktreeCheckouts.ensure}: that checkout never ran or was cut off, or it
 * failed and this is a restart, or the directory was removed since). Else the lane gets a new
 * worktree of its branch (`<dataDir>/worktrees/<repo>-<lane id prefix>`), written to the row.
 * @throws AppError from git (the checkout failed, the branch is gone, the path is occupied)
 */
export async function localWorktree(deps: { db: Db; dataDir: string; checkouts: StartCheckout }, lane: LaneRow): Promise<LaneRow> {
  const { db, dataDir } = deps;
  if (inside(lane.worktreePath, dataDir)) {
    const repoPath = async () => (await db.repo.findUniqueOrThrow({ where: { id: lane.repoId } })).path;
    await deps.checkouts.ensure({ laneId: lane.id, repoId: lane.repoId, worktreePath: lane.worktreePath, branch: lane.branch }, repoPath);
    return lane;
  }
  const repo = await db.repo.findUniqueOrThrow({ where: { id: lane.repoId } });
  const worktreePath = path.join(dataDir, "worktrees", `${repo.name}-${lane.id.slice(0, 8)}`);
  if (!existsSync(worktreePath)) await checkoutWorktree(repo.path, worktreePath, lane.branch);
  return updateLane(db, lane.id, { worktreePath });
}
