/**
 * One lock per repository around every git command that changes its worktree list
 * (`.git/worktrees/*`), held across processes: several Laneboard nodes (one PostgreSQL, one
 * repository path) create and remove lane worktrees in the same repository at once.
 *
 * Why: git takes no lock of its own around `git worktree add`. An add makes the slot
 * `.git/worktrees/<name>` and then writes `locked`, `commondir`, `gitdir`, `HEAD` into it one
 * after another, while any other git process that lists the worktrees (another `worktree add`,
 * `worktree prune`/`remove`, `branch -D`, which checks the branch is not checked out elsewhere)
 * reads every slot. Seen in CI with three nodes: `fatal: failed to read
 * .git/worktrees/<name>/commondir: Success` (the file existed but was still empty), and
 * `could not open '.git/worktrees/<name>/locked'` (a concurrent `prune` deleted the slot before
 * its `locked` marker was written). Retrying after such a failure is not safe: cleaning up a
 * failed add runs `git worktree prune`, which can delete another node's half-made slot.
 *
 * Two layers, in this order:
 * 1. In this process, a promise queue per repository, so one process never contends with itself
 *    (its calls wait on a promise, not by polling the file system).
 * 2. Across processes, [proper-lockfile](https://github.com/moxystudio/node-proper-lockfile):
 *    `mkdir` of `<git-common-dir>/laneboard-worktrees.lock`, atomic on local file systems and on
 *    NFS (nodes may share the repository over a network file system), held while the commands
 *    run and removed afterwards. Waiters try again every 2-50 ms.
 *
 * Stale locks: the holder touches the lock directory's mtime every
 * {@link WORKTREE_LOCK_UPDATE_MS}; a lock not touched for {@link WORKTREE_LOCK_STALE_MS} is
 * taken over by the next waiter. A node that is SIGKILLed (or loses power) while holding the lock
 * therefore blocks the repository's worktree changes for at most that long, and they wait rather
 * than fail. A node that exits any other way (exception, SIGTERM, SIGINT) removes its lock on
 * exit (proper-lockfile's exit hook). Taking over is safe when the holder is dead. A live holder
 * is only taken over if its event loop stalls for longer than stale - update = 25 s (it touches
 * the lock from a timer, and git runs in child processes, so a long checkout does not stall it),
 * or if the nodes' clocks differ by about that much (the mtime is written with the holder's clock
 * and judged with the waiter's): nodes on several machines need synchronized clocks (NTP). A
 * holder that finds its lock taken over logs it; the command it is running cannot be undone.
 * Known limit of proper-lockfile: two waiters that find the same stale lock at the same instant
 * can both take it; this needs a dead holder and a race within a few ms, once.
 */
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { lock } from "proper-lockfile";
import { AppError } from "@/lib/errors";
import { gitCommonDir } from "./refs";

/**
 * A lock whose directory's mtime is older than this (ms) belongs to a dead node and is taken
 * over. Longer than any event-loop stall a live node should have; short enough that a killed
 * node holds up its repository's lane creation for half a minute at most.
 */
export const WORKTREE_LOCK_STALE_MS = 30_000;
/** How often (ms) the holder refreshes the lock's mtime; proper-lockfile needs ≤ stale / 2. */
export const WORKTREE_LOCK_UPDATE_MS = 5_000;
/**
 * How long (ms) a call waits for the lock before it fails: longer than one `git worktree add`
 * may take (its 10 min timeout) plus a stale lock's takeover, so a waiter gives up only when the
 * lock is stuck in a way staleness does not cover (e.g. its directory cannot be removed).
 */
export const WORKTREE_LOCK_WAIT_MS = 15 * 60_000;
/** Name of the lock directory inside the repository's common git dir. */
export const WORKTREE_LOCK_NAME = "laneboard-worktrees.lock";

/**
 * Wait (ms) before the next try while another process holds the lock: 2 ms growing 1.5× per try
 * up to 25 ms, each × 1-2 at random so waiters do not try in step (so 2-50 ms). A try is one
 * `mkdir` and one `stat`; short waits keep the time between a release and the next holder small,
 * as lane creation must stay fast (docs/scale-out.md). Polling because a lock directory offers
 * nothing to wait on; proper-lockfile's own retries are not used because they retry every error,
 * and a repository that was deleted (ENOENT) must fail at once, not after 15 min.
 */
function retryDelayMs(attempt: number): number {
  return Math.min(25, 2 * 1.5 ** attempt) * (1 + Math.random());
}

/** Repository path (resolved) → its lock directory; a failed look-up is forgotten, so asked again. */
const lockDirs = new Map<string, Promise<string>>();
/** Lock directory → the tail of this process's queue for it. */
const queues = new Map<string, Promise<unknown>>();

/**
 * The lock directory of the repository at `repoPath`: `<git-common-dir>/laneboard-worktrees.lock`
 * (`git rev-parse --git-common-dir`, realpath'd), so the main work tree and every worktree of a
 * repository share one lock. Asked of git once per repository path and cached.
 * @throws AppError from {@link gitCommonDir} (not a repository)
 */
function lockDirFor(repoPath: string): Promise<string> {
  const key = path.resolve(repoPath);
  let dir = lockDirs.get(key);
  if (!dir) {
    dir = gitCommonDir(key).then((common) => path.join(common, WORKTREE_LOCK_NAME));
    lockDirs.set(key, dir);
    dir.catch(() => lockDirs.delete(key));
  }
  return dir;
}

/**
 * Run `fn` while holding the repository's worktree lock: after every earlier call for the same
 * repository in this process has settled, and while no other process holds the lock. `fn` should
 * run only git commands that change or read the worktree list, and their bookkeeping: the lock is
 * held for all of it, so every other node waits.
 *
 * Cost when nobody else holds it: one `git rev-parse` for the first call per repository, then a
 * `mkdir`, a `stat` and an `rmdir` per call (median ≈ 0.4 ms at load 5-8 on 2 cores; bench/worktree-lock.ts).
 *
 * @returns what `fn` returns.
 * @throws whatever `fn` throws; AppError from {@link gitCommonDir} when `repoPath` is not a
 *   repository; AppError `not_found` when its git directory was deleted since; AppError
 *   `unavailable` when the lock could not be taken within {@link WORKTREE_LOCK_WAIT_MS}, or the
 *   lock directory cannot be made (e.g. no write permission in `.git`).
 */
export async function withWorktreeLock<T>(repoPath: string, fn: () => Promise<T>): Promise<T> {
  const lockDir = await lockDirFor(repoPath);
  const previous = queues.get(lockDir) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => holdingFileLock(lockDir, fn));
  queues.set(lockDir, next);
  try {
    return await next;
  } finally {
    if (queues.get(lockDir) === next) queues.delete(lockDir);
  }
}

async function holdingFileLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  const release = await acquire(lockDir);
  try {
    return await fn();
  } finally {
    // ERELEASED after a takeover (already reported); anything else leaves the lock to go stale.
    await release().catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ERELEASED") console.error(`[git] could not release worktree lock ${lockDir}: ${err.message}`);
    });
  }
}

/**
 * Take the lock directory `lockDir`, trying again while it is held ({@link retryDelayMs}) until
 * {@link WORKTREE_LOCK_WAIT_MS}. Returns the function that releases it.
 * @throws AppError `not_found` (the git directory is gone: the cached path is forgotten, so a
 *   repository made again there is found), `unavailable` (held past the wait, or another error)
 */
async function acquire(lockDir: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + WORKTREE_LOCK_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      // The lock is the directory itself (`lockfilePath`); proper-lockfile also keys its own
      // bookkeeping by the first argument, which need not exist (`realpath: false`).
      return await lock(lockDir, {
        lockfilePath: lockDir,
        realpath: false,
        stale: WORKTREE_LOCK_STALE_MS,
        update: WORKTREE_LOCK_UPDATE_MS,
        // The default throws from a timer, which would crash the server; the git command under
        // way cannot be stopped half-way anyway, so say so and let it finish.
        onCompromised: (err) => console.error(`[git] worktree lock ${lockDir} was taken over while held: ${err.message}`),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ELOCKED" && Date.now() < deadline) {
        await delay(retryDelayMs(attempt));
        continue;
      }
      if (code === "ENOENT") {
        for (const [repo, dir] of lockDirs) if ((await dir.catch(() => null)) === lockDir) lockDirs.delete(repo);
        throw new AppError("not_found", `the repository's git directory ${path.dirname(lockDir)} does not exist (any more)`);
      }
      const why = code === "ELOCKED" ? `held by another process for over ${WORKTREE_LOCK_WAIT_MS / 60_000} min` : (err as Error).message;
      throw new AppError("unavailable", `could not lock the worktrees of the repository (${lockDir}): ${why}`);
    }
  }
}
