/**
 * The ref watcher on a real repository: commits, merges, a fetch into main, pack-refs, a rename
 * and a new lane directory are each noticed without polling.
 */
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gitCommonDir } from "./refs";
import { RefWatcher } from "./ref-watcher";
import { git } from "./runner";
import { commitFile, initRepo, makeTempDir, TEST_IDENTITY } from "./git.testing";

let tmp: { dir: string; cleanup: () => Promise<void> };
let repo: string;
let common: string;
let watcher: RefWatcher;
let waiters: Array<() => void> = [];
beforeEach(async () => {
  tmp = await makeTempDir("laneboard-watch-");
  repo = await initRepo(path.join(tmp.dir, "repo"));
  common = await gitCommonDir(repo);
  watcher = new RefWatcher({ debounceMs: 20, onChange: () => waiters.splice(0).forEach((w) => w()) });
});
afterEach(async () => {
  watcher.close();
  waiters = [];
  await tmp.cleanup();
});

/** Resolves on the next change notification; rejects after 5 s. */
function nextChange(): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no change noticed within 5 s")), 5000);
    waiters.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe("RefWatcher", () => {
  it("notices a commit on main, a new nested lane branch, pack-refs and a rename", async () => {
    watcher.watch(common, ["main", "lane/a"]);
    expect(watcher.watchedDirs(common)).toEqual([common, path.join(common, "refs", "heads")].sort());

    let change = nextChange();
    await commitFile(repo, "x.txt", "x\n", "main moves");
    await change;

    change = nextChange();
    await git(["branch", "lane/a"], { cwd: repo });
    await change;
    expect(watcher.watchedDirs(common)).toContain(path.join(common, "refs", "heads", "lane"));

    change = nextChange();
    await git(["pack-refs", "--all"], { cwd: repo });
    await change;

    change = nextChange();
    await git(["branch", "-m", "main", "trunk"], { cwd: repo });
    await change;
  });

  it("notices a fetch into main from another repository", async () => {
    const other = path.join(tmp.dir, "other");
    await git(["clone", "--quiet", repo, other], { cwd: tmp.dir });
    await git([...TEST_IDENTITY, "commit", "--quiet", "--allow-empty", "-m", "upstream work"], { cwd: other });
    await git(["checkout", "--quiet", "--detach"], { cwd: repo }); // a fetch may not update the checked-out branch
    watcher.watch(common, ["main"]);
    const change = nextChange();
    await git(["fetch", "--quiet", other, "main:main"], { cwd: repo });
    await change;
    expect(watcher.notifications).toBeGreaterThanOrEqual(1);
  });

  it("changed() reads the heads as a change would; a steady stream of changes still notifies by maxWaitMs", async () => {
    watcher.close();
    watcher = new RefWatcher({ debounceMs: 1000, maxWaitMs: 200, onChange: () => waiters.splice(0).forEach((w) => w()) });
    watcher.watch(common, ["main"]);
    let change = nextChange();
    watcher.changed(common);
    await change;
    expect(watcher.notifications).toBe(1);

    // A poke every 20 ms keeps the 1 s quiet time from ever passing: only maxWaitMs lets the notification out.
    const poke = setInterval(() => watcher.changed(common), 20);
    try {
      const t0 = performance.now();
      change = nextChange();
      watcher.changed(common);
      await change;
      expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
      expect(watcher.notifications).toBe(2);
    } finally {
      clearInterval(poke);
    }
  });
});
