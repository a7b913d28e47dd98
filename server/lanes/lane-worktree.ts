/**
 * A lane's worktree on the node that runs it. Each node keeps worktrees in its own data dir; a
 * lane created on one node (its worktree made there) or moved to another (a restart, a lost node)
 * is checked out again from its branch in this node's data dir when it starts here, and the row
 * points at the new path. Uncommitted changes of the old worktree stay behind: the lane's branch
 * is the starting point.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { checkoutWorktree } from "../git/git";
import type { Db } from "../store/db";
import { updateLane, type LaneRow } from "../records/lane-store";

/** Is `p` inside `dir` (not equal to it)? */
const inside = (p: string, dir: string) => {
  const rel = path.relative(dir, p);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
};

/**
 * The lane with a worktree in `dataDir`: as it is when its worktree path is there (even if the
 * directory was removed: that is the lane's own problem to report), else with a new worktree of
 * its branch (`<dataDir>/worktrees/<repo>-<lane id prefix>`) written to the row.
 * @throws AppError from git (the branch is gone, the path is occupied)
 */
export async function localWorktree(db: Db, dataDir: string, lane: LaneRow): Promise<LaneRow> {
  if (inside(lane.worktreePath, dataDir)) return lane;
  const repo = await db.repo.findUniqueOrThrow({ where: { id: lane.repoId } });
  const worktreePath = path.join(dataDir, "worktrees", `${repo.name}-${lane.id.slice(0, 8)}`);
  if (!existsSync(worktreePath)) await checkoutWorktree(repo.path, worktreePath, lane.branch);
  return updateLane(db, lane.id, { worktreePath });
}
