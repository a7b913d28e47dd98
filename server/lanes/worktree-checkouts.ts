/**
 * Lane worktrees checked out in the background. Creating a lane answers once its branch exists
 * and its row is written; `git worktree add` (three git processes and the files' checkout, more
 * than half of what a create cost) runs after the answer. Whatever reads a lane's worktree
 * before the lane's first start waits here for it ({@link WorktreeCheckouts.ready}): freshness
 * (which would otherwise report the worktree missing) and cleanup. The first start itself asks
 * {@link WorktreeCheckouts.ensure}, which also says how the checkout failed.
 */
import { existsSync } from "node:fs";
import { addWorktree } from "../git/git";

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
   * For a lane's first start: resolves once its worktree exists. Waits for the checkout begun at
   * its create; checks it out now when that never ran (the server stopped in between) or the
   * directory is gone.
   * @param repoPath read only when a checkout is needed
   * @throws the checkout's error (from {@link addWorktree}: a failing post-checkout hook, an
   *   occupied path, git failing), reported once
   */
  async ensure(t: CheckoutTarget, repoPath: () => Promise<string>): Promise<void> {
    await this.ready(t.laneId);
    const failure = this.#failed.get(t.laneId);
    if (this.#failed.delete(t.laneId)) throw failure;
    if (!existsSync(t.worktreePath)) await this.#checkout(t, await repoPath());
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
