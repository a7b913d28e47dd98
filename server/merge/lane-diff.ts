/**
 * A lane's changes for review: its branch head against the merge base with its base branch (what
 * a merge would bring in), as a list of files first and one file's patch on request, so a
 * person opening a lane with thousands of changed files pays only for the files they open.
 *
 * Only paths the diff lists can be asked for (a path is looked up in the list, never passed to
 * git on its own), and both sides are commits, so nothing outside the repo's object store is read.
 */
import { AppError } from "@/lib/errors";
import type { LaneDiff, LaneDiffFile } from "@/lib/review-api";
import { diffFilePatch, diffFiles, assertReviewPath } from "../git/diff";
import { mergeBase, resolveCommit } from "../git/git";
import { loadLane } from "../records/lane-store";
import type { Db } from "../store/db";

export class LaneDiffService {
  constructor(private readonly deps: { db: Db }) {}

  /**
   * Files the lane's branch changed against its base, with line counts.
   * @throws AppError not_found (no lane); conflict (the branch or base is gone, e.g. cleaned up after a merge; or they share no history)
   */
  async files(laneId: string): Promise<LaneDiff> {
    const { lane, repo, baseSha, head } = await this.#sides(laneId);
    const files = await diffFiles(repo, baseSha, head);
    const sum = (k: "additions" | "deletions") => files.reduce((n, f) => n + (f[k] ?? 0), 0);
    return { laneId, branch: lane.branch, baseBranch: lane.baseBranch, baseSha, head, files, additions: sum("additions"), deletions: sum("deletions") };
  }

  /**
   * One file's unified diff. With `at` (the commits a listing was read at) the patch is of those
   * commits, so it matches the list the person is looking at even if the branch moved since.
   * @throws AppError invalid_input (a path the diff does not list), not_found, conflict
   */
  async file(laneId: string, path: string, at?: { base?: string; head?: string }): Promise<LaneDiffFile> {
    assertReviewPath(path);
    const sides = await this.#sides(laneId);
    const baseSha = at?.base ? await this.#commitIn(sides.repo, at.base) : sides.baseSha;
    const head = at?.head ? await this.#commitIn(sides.repo, at.head) : sides.head;
    const entry = (await diffFiles(sides.repo, baseSha, head)).find((f) => f.path === path);
    if (!entry) throw new AppError("invalid_input", `${path} is not changed in this lane's diff`, { field: "path" });
    const { patch, truncated } = await diffFilePatch(sides.repo, baseSha, head, entry);
    return { laneId, path, baseSha, head, patch, truncated };
  }

  async #commitIn(repo: string, sha: string): Promise<string> {
    return resolveCommit(repo, sha).catch(() => {
      throw new AppError("conflict", `commit ${sha.slice(0, 12)} is no longer in the repository; reload the diff`);
    });
  }

  async #sides(laneId: string) {
    const lane = await loadLane(this.deps.db, laneId);
    const { path: repo } = await this.deps.db.repo.findUniqueOrThrow({ where: { id: lane.repoId }, select: { path: true } });
    const gone = (what: string) => new AppError("conflict", `the lane's ${what} no longer exists (cleaned up after a merge?)`, { kind: "no_branch" });
    const head = await resolveCommit(repo, `refs/heads/${lane.branch}`).catch(() => {
      throw gone(`branch ${lane.branch}`);
    });
    const baseHead = await resolveCommit(repo, `refs/heads/${lane.baseBranch}`).catch(() => {
      throw gone(`base branch ${lane.baseBranch}`);
    });
    const baseSha = await mergeBase(repo, baseHead, head);
    if (!baseSha) throw new AppError("conflict", `${lane.branch} and ${lane.baseBranch} share no history`);
    return { lane, repo, baseSha, head };
  }
}
