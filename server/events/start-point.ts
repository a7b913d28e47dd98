/**
 * A lane's start point: the commit its worker first started from, against which "did the worker
 * change anything" is asked (phantom completion, what a lane produced for its dependants).
 * It is `Lane.baseSha` (the base head when the worktree was made), unless the worktree was
 * prepared at start time (a lane with dependencies, server/lanes/prepare-worktree.ts): then it is the head
 * recorded in the lane's newest `lane.worktree_prepared` event (base at start + dependencies merged).
 */
import type { Db } from "../store/db";

/** @returns the start point's SHA, or null when the lane has none recorded */
export async function laneStartPoint(db: Db, lane: { id: string; baseSha: string | null }): Promise<string | null> {
  const prepared = await db.laneEvent.findFirst({ where: { laneId: lane.id, type: "lane.worktree_prepared" }, orderBy: { id: "desc" }, select: { payload: true } });
  if (!prepared) return lane.baseSha;
  return (JSON.parse(prepared.payload) as { head?: string }).head ?? lane.baseSha;
}
