/**
 * Lane worktrees checked out in the background. Creating a lane answers once its branch exists
 * and its row is written; `git worktree add` (three git processes and the files' checkout, more
 * than half of what a create cost) runs after the answer. Whatever reads a lane's worktree
 * before the lane's first start waits here for it ({@link WorktreeCheckouts.ready}): freshness
 * (which would otherwise report the worktree missing) and cleanup. Each start itself asks
 * {@link WorktreeCheckouts.ensure}, which also says how the checkout failed.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { addWorktree, removeWorktree } from "../git/git";

/** Which lane's worktree, where, of which branch. */
export interface CheckoutTarget {
  laneId: string;
  repoId: string;
  worktreePath: string;
  branch: string;
}

export interface WorktreeCheckoutsOptions {
  /** Whether a repo's policy lets its post-checkout hook run as a worktree is made; default never. */
  runCheckoutHook?: (repoId: string) => boolean;
}

export class WorktreeCheckouts {
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Checkouts that failed, by lane, until the lane's first start reports it ({@link ensure}). */
  readonly #failed = new Map<string, unknown>();

  constructor(private readonly opts: WorktreeCheckoutsOptions = {}) {}

  /** Check out `t.branch` at `t.worktreePath` now, in the background (`repoPath`: the repository's work tree). */
  begin(t: CheckoutTarget, repoPath: string): void {
    const done = this.#checkout(t, repoPath)
      .catch((err: unknown) => void this.#failed.set(t.laneId, err))
      .finally(() => this.#inFlight.delete(t.laneId));
    this.#inFlight.set(t.laneId, done);
  }

  /** Resolves once lane `laneId`'s checkout has ended, either way (at once when none is under way). Never rejects. */
  ready(laneId: string): Promise<void> {
    return this.#inFlight.get(laneId) ?? Promise.resolve();
  }

  /**
   * For a lane's start: resolves once its worktree exists. Waits for the checkout begun at its
   * create; checks it out now when that never ran, was cut off (the server stopped in between:
   * {@link halfMade}) or failed (reported to the first start, made again at a restart), or the
   * directory is gone.
   * @param repoPath read only when a checkout is needed
   * @throws the checkout's error (from {@link addWorktree}: a failing post-checkout hook, an
   *   occupied path, git failing); the failure of the checkout begun at the create is reported
   *   once, to the first start
   */
  async ensure(t: CheckoutTarget, repoPath: () => Promise<string>): Promise<void> {
    await this.ready(t.laneId);
    const failure = this.#failed.get(t.laneId);
    if (this.#failed.delete(t.laneId)) throw failure;
    if (existsSync(t.worktreePath) && !halfMade(t.worktreePath)) return;
    const repo = await repoPath();
    // Its checkout was cut off (the server was killed during it): made again from the branch.
    // Without a `.git` file git never got to register it, and `git worktree add` takes the empty
    // directory as it is (one holding files is refused there: not ours to delete).
    if (existsSync(path.join(t.worktreePath, ".git"))) await removeWorktree(repo, t.worktreePath, { evenLocked: true });
    await this.#checkout(t, repo);
  }

  /** Resolves once every checkout under way has ended (before the server closes its database and leaves). */
  async settled(): Promise<void> {
    await Promise.all(this.#inFlight.values());
  }

  #checkout(t: CheckoutTarget, repoPath: string): Promise<void> {
    const runCheckoutHook = this.opts.runCheckoutHook?.(t.repoId) ?? false;
    return addWorktree({ repoPath, worktreePath: t.worktreePath, branch: t.branch, runCheckoutHook });
  }
}

/**
 * Whether the worktree at `dir` is one `git worktree add` did not finish: it has no `.git` file
 * yet, or its admin dir still holds the `locked` file git writes ("initializing") while it adds
 * a worktree and removes once the checkout is done (builtin/worktree.c, git 2.x; the word is in
 * English since our git runs with LC_ALL=C). Never throws.
 */
function halfMade(dir: string): boolean {
  try {
    const gitdir = /^gitdir: (.+)$/m.exec(readFileSync(path.join(dir, ".git"), "utf8"))?.[1]?.trim();
    if (!gitdir) return true;
    return readFileSync(path.join(path.resolve(dir, gitdir), "locked"), "utf8").trim() === "initializing";
  } catch (err) {
    // No `.git` file yet: cut off before git wrote it. No `locked` file: finished.
    return (err as NodeJS.ErrnoException).code === "ENOENT" && !existsSync(path.join(dir, ".git"));
  }
}
