/**
 * What a lane produced, for artifact dependencies (`artifact: {kind: "commit"}` or
 * `{kind: "file", path}`): the commits on its branch since its start point (its base commit, or
 * after a dependency merge the head it started from: not its dependencies' commits), and the
 * paths those commits changed (`git diff start branch`). Read once when the lane finishes and stored on the
 * Lane row (`produced`), so dependants created later, and a restarted server, see the same thing.
 */
import { laneStartPoint } from "../events/start-point";
import { changedFiles, commitsExcluding } from "../git/git";
import type { Db } from "../store/db";
import type { Produced } from "./dependency-graph";

/** Commits listed at most (only their presence matters to the graph). */
const MAX_COMMITS = 100;
/** Changed paths kept at most. */
const MAX_FILES = 10_000;

/**
 * @param repoPath the repo's main work tree (the lane's branch lives in it)
 * @returns commits (newest last) and changed paths; empty lists when the branch or base is gone
 *   (a dependant needing an artifact is then blocked with that reason, never stuck).
 */
export async function laneProduced(repoPath: string, branch: string, baseSha: string | null): Promise<Produced> {
  if (!baseSha) return { commits: [], files: [] };
  try {
    const commits = await commitsExcluding(repoPath, `refs/heads/${branch}`, [baseSha], MAX_COMMITS);
    const files = commits.length ? await changedFiles(repoPath, baseSha, `refs/heads/${branch}`) : [];
    return { commits, files: files.slice(0, MAX_FILES) };
  } catch (err) {
    return { commits: [], files: [], reason: `could not read branch ${branch}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** {@link laneProduced} since the lane's start point (server/events/start-point.ts). */
export async function producedSinceStart(db: Db, lane: { id: string; branch: string; baseSha: string | null; repoPath: string }): Promise<Produced> {
  return laneProduced(lane.repoPath, lane.branch, await laneStartPoint(db, lane));
}

/**
 * What a finished lane produced ({@link producedSinceStart}), read before the scheduler settles
 * it: the settle runs on the scheduler's serial chain, and a git call made there held up every
 * step queued behind it (another lane's submit, so its create's answer, among them).
 * @returns the lane's attempt with what it produced, or null when the lane is not finished
 *   (restarted meanwhile, or gone): the settle then reads it itself
 */
export async function producedOfFinished(db: Db, laneId: string): Promise<{ attempt: number; produced: Produced } | null> {
  const lane = await db.lane.findUnique({ where: { id: laneId }, select: { state: true, attempt: true, branch: true, baseSha: true, repo: { select: { path: true } } } });
  if (lane?.state !== "finished") return null;
  return { attempt: lane.attempt, produced: await producedSinceStart(db, { id: laneId, branch: lane.branch, baseSha: lane.baseSha, repoPath: lane.repo.path }) };
}
