/**
 * Several Laneboard nodes (separate OS processes) changing the worktrees of one repository at
 * once, as nodes sharing one PostgreSQL do (e2e/cluster.spec.ts). Git does not make concurrent
 * `worktree add`/`remove`/`prune` in one repository safe; without a lock across processes this
 * failed with `fatal: failed to read .git/worktrees/<name>/commondir: Success` (an add read a slot
 * another add was still filling) and `could not open '.git/worktrees/<name>/locked'` (another
 * process's `worktree prune` deleted the slot before git marked it). The children
 * (testdata/worktree-race-child.ts) start together after a barrier, not after sleeps.
 */
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { git } from "./runner";
import { initRepo, tempDirPerTest } from "./git.testing";

const CHILD = path.join(import.meta.dirname, "testdata", "worktree-race-child.ts");
/**
 * Processes (nodes) and iterations each. Without the lock this failed in 2 of 3 runs on a loaded
 * 2-core machine (8 × 6: 2 of 4; 8 × 12: 3 of 3): a race, so not every run. More of either fails
 * more often and takes longer (with the lock every git command here runs one at a time).
 */
const CHILDREN = 6;
const ITERATIONS = 8;
/** About 300 git processes, one at a time: seconds on an idle machine, ~50 s at load 15 on 2 cores. */
const TIMEOUT_MS = 180_000;

interface ChildResult {
  errors: string[];
  kept: Record<string, string>;
}

/** Fork one child and resolve when it reports ready; `result` resolves with its final message. */
function startChild(args: string[]): Promise<{ child: ChildProcess; result: Promise<ChildResult> }> {
  const child = fork(CHILD, args, { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolveReady, rejectReady) => {
    const result = new Promise<ChildResult>((resolve, reject) => {
      child.on("message", (msg: { ready?: boolean } & Partial<ChildResult>) => {
        if (msg.ready) resolveReady({ child, result });
        else resolve({ errors: msg.errors ?? [], kept: msg.kept ?? {} });
      });
      child.on("exit", (code) => {
        const err = new Error(`child exited with ${code} before reporting`);
        rejectReady(err);
        reject(err);
      });
    });
    result.catch(() => undefined);
  });
}

const tmp = tempDirPerTest();

describe("worktree changes from several processes on one repository", () => {
  it("all succeed and leave a consistent worktree list", async () => {
    const repo = await initRepo(path.join(tmp.dir, "repo"));
    const worktreesDir = path.join(tmp.dir, "worktrees");
    const children = await Promise.all(Array.from({ length: CHILDREN }, (_, id) => startChild([repo, worktreesDir, String(id), String(ITERATIONS)])));
    // Barrier: every child is loaded and waiting; release them together.
    for (const { child } of children) child.send("go");
    const results = await Promise.all(children.map((c) => c.result));

    expect(results.flatMap((r) => r.errors)).toEqual([]);
    const kept = Object.assign({}, ...results.map((r) => r.kept)) as Record<string, string>;
    const porcelain = (await git(["worktree", "list", "--porcelain"], { cwd: repo })).stdout;
    const listed = new Map<string, string>();
    for (const block of porcelain.split("\n\n")) {
      const worktree = /^worktree (.*)$/m.exec(block)?.[1];
      if (worktree && worktree !== repo) listed.set(worktree, /^branch refs\/heads\/(.*)$/m.exec(block)?.[1] ?? "");
      expect(block, "no registration without its directory").not.toMatch(/^prunable/m);
    }
    expect(Object.fromEntries(listed)).toEqual(kept);
    expect((await fs.readdir(path.join(repo, ".git", "worktrees"))).length).toBe(Object.keys(kept).length);
    const branches = (await git(["for-each-ref", "--format=%(refname:short)", "refs/heads/lane/"], { cwd: repo })).stdout.split("\n").filter(Boolean);
    // Branches removed with their worktree are gone; those kept (or checked out again) remain.
    expect(branches.sort()).toEqual(Object.values(kept).sort());
  }, TIMEOUT_MS);
});
