/**
 * The database reads freshness makes, shaped for batches: the few lane fields it needs (a scan of
 * thousands of lanes reads no packets or checks) and each lane's newest event of a type in two
 * queries for all lanes (no query per lane, no unbounded `IN` list).
 */
import type { Db } from "../store/db";

/**
 * The lane columns freshness reads. Its repository's path is not joined in: a repository's path
 * never changes, so it is read once per repository ({@link LaneReader}); a join made
 * Prisma read the Repo row again for every lane of a batch, with an `IN` list as long as the batch.
 */
export const LANE_FIELDS = {
  id: true,
  repoId: true,
  branch: true,
  baseBranch: true,
  baseSha: true,
  worktreePath: true,
  ahead: true,
  behind: true,
} as const;

/** A lane as {@link LANE_FIELDS} reads it, with its repository's path. */
export interface LaneWithRepo {
  id: string;
  repoId: string;
  branch: string;
  baseBranch: string;
  baseSha: string | null;
  worktreePath: string;
  ahead: number | null;
  behind: number | null;
  repo: { path: string };
}

/**
 * Reads of lanes with their repository's path, the path read once per repository and then kept
 * (a repository's path never changes; one small entry per registered repository).
 */
export class LaneReader {
  readonly #repoPaths = new Map<string, { path: string }>();

  constructor(private readonly db: Db) {}

  /** The repository's path, from memory after the first read. Null for an unknown repository. */
  async repo(repoId: string): Promise<{ path: string } | null> {
    const known = this.#repoPaths.get(repoId);
    if (known) return known;
    const repo = await this.db.repo.findUnique({ where: { id: repoId }, select: { path: true } });
    if (repo) this.#repoPaths.set(repoId, repo);
    return repo;
  }

  /** The lane's {@link LANE_FIELDS} with its repository's path; null for an unknown lane. */
  async lane(laneId: string): Promise<LaneWithRepo | null> {
    const row = await this.db.lane.findUnique({ where: { id: laneId }, select: LANE_FIELDS });
    const repo = row && (await this.repo(row.repoId));
    return row && repo ? { ...row, repo } : null;
  }
}

/** Ids per query when reading rows by id (well under SQLite's and PostgreSQL's bound-parameter limits). */
const ID_CHUNK = 500;

/**
 * The payload of each lane's newest event of `type`, for every lane, the lanes of `where.repoId`
 * or the one lane `where.laneId`: one grouped query for the newest ids, then the rows by id in
 * chunks of {@link ID_CHUNK}.
 * @returns lane id → parsed payload (lanes with no such event are absent)
 */
export async function latestEventPayloads<T>(db: Db, type: string, where: { repoId?: string; laneId?: string } = {}): Promise<Map<string, T>> {
  const groups = await db.laneEvent.groupBy({ by: ["laneId"], where: { type, ...where }, _max: { id: true } });
  const ids = groups.flatMap((g) => (g._max.id === null ? [] : [g._max.id]));
  const out = new Map<string, T>();
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const rows = await db.laneEvent.findMany({ where: { id: { in: ids.slice(i, i + ID_CHUNK) } }, select: { laneId: true, payload: true } });
    for (const r of rows) if (r.laneId) out.set(r.laneId, JSON.parse(r.payload) as T);
  }
  return out;
}

/** The part of a `lane.commit.created` payload that commit detection reads. */
export type CommitPayload = { sha?: string };

/**
 * Where commit detection resumes for a lane when nothing is in memory: the commit of its newest
 * `lane.commit.created` event (`commits`: lane id → payload, from {@link latestEventPayloads}),
 * else the lane's base commit (null when that is unknown too).
 */
export function resumeHead(lane: Pick<LaneWithRepo, "id" | "baseSha">, commits: ReadonlyMap<string, CommitPayload>): string | null {
  return commits.get(lane.id)?.sha ?? lane.baseSha;
}

/** What a batch (boot, scan) already read for a lane, so recomputing it starts no query and at most the git calls its commits need. */
export interface BatchReads {
  lane: LaneWithRepo;
  /** Branch heads of the lane's repository (short name → commit), read once for the batch. */
  heads: ReadonlyMap<string, string>;
  /** Where commit detection resumes when nothing is in memory: the newest reported commit, else the lane's base commit. */
  lastHead: () => Promise<string | null>;
  /** The problem the log last reported for the lane (after a restart the memo is empty; the log is not). */
  lastProblemKey?: string | null;
}
