/**
 * `npx tsx bench/worktree-lock.ts [--n 50]`
 *
 * What the cross-process worktree lock (server/git/worktree-lock.ts) adds to lane creation when
 * no other node holds it: `--n` acquire/release rounds of {@link withWorktreeLock} around nothing
 * (after one unmeasured round that asks git for the common dir, which is cached), then `--n`
 * createWorktree + removeWorktree rounds for scale, all on a fresh temp repository. Prints
 * median and p90 in ms and the load average (1 min) before and after: on a shared machine the
 * figures mean little without it.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createWorktree, removeWorktree } from "../server/git/worktree";
import { withWorktreeLock } from "../server/git/worktree-lock";
import { git } from "../server/git/runner";

const nArg = process.argv.indexOf("--n");
const N = nArg > 0 ? Number(process.argv[nArg + 1]) : 50;

function quantile(ms: number[], q: number): number {
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const loadBefore = os.loadavg()[0] ?? NaN;
const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "laneboard-lockbench-")));
try {
  const repo = path.join(dir, "repo");
  await fs.mkdir(repo);
  await git(["init", "--quiet", "--initial-branch=main"], { cwd: repo });
  await fs.writeFile(path.join(repo, "README.md"), "# bench\n");
  await git(["add", "README.md"], { cwd: repo });
  await git(["-c", "user.name=Bench", "-c", "user.email=bench@laneboard.invalid", "commit", "--quiet", "-m", "init"], { cwd: repo });

  await withWorktreeLock(repo, async () => undefined); // the one git rev-parse, cached after
  const lockMs: number[] = [];
  for (let i = 0; i < N; i++) lockMs.push(await timed(() => withWorktreeLock(repo, async () => undefined)));

  const createMs: number[] = [];
  for (let i = 0; i < N; i++) {
    const worktreePath = path.join(dir, "worktrees", `w${i}`);
    createMs.push(await timed(() => createWorktree({ repoPath: repo, worktreePath, branch: `lane/w${i}`, base: "main" })));
    await removeWorktree(repo, worktreePath, { deleteBranch: `lane/w${i}` });
  }
  const fmt = (ms: number[]): string => `median ${quantile(ms, 0.5).toFixed(2)} ms, p90 ${quantile(ms, 0.9).toFixed(2)} ms`;
  console.log(`lock acquire+release (uncontended, n=${N}): ${fmt(lockMs)}`);
  console.log(`createWorktree (with the lock, n=${N}): ${fmt(createMs)}`);
  console.log(`load average (1 min): ${loadBefore.toFixed(2)} before, ${(os.loadavg()[0] ?? NaN).toFixed(2)} after, ${os.cpus().length} cores`);
} finally {
  await fs.rm(dir, { recursive: true, force: true });
}
