/**
 * Test helpers for the agent engines: a real git repo with a lane worktree in a temp directory,
 * and running a prepared agent worker as a real child process (stdin from /dev/null, as the
 * supervisor's `stdin: "null"` does) with its stdout fed line by line to the engine's adapter.
 * Not imported by runtime code.
 */
import path from "node:path";
import { execa } from "execa";
import { git } from "../git/runner";
import { initRepo, makeTempDir } from "../git/git.testing";
import type { PreparedAgentWorker } from "./agent-engines";
import type { EngineSignal } from "./engine-events";

export interface LaneFixture {
  /** The temp dir holding everything. */
  dir: string;
  repo: string;
  worktree: string;
  laneDir: string;
  branch: string;
  cleanup: () => Promise<void>;
}

/** A repo (`main` with README.md) and a worktree on `lane/test`, plus an empty lane directory path. */
export async function makeLaneFixture(): Promise<LaneFixture> {
  const tmp = await makeTempDir("laneboard-engine-");
  const repo = await initRepo(path.join(tmp.dir, "repo"));
  const worktree = path.join(tmp.dir, "wt");
  const branch = "lane/test";
  await git(["worktree", "add", "--quiet", "-b", branch, "--", worktree], { cwd: repo });
  return { dir: tmp.dir, repo, worktree, laneDir: path.join(tmp.dir, "lane"), branch, cleanup: tmp.cleanup };
}

export interface WorkerRun {
  exitCode: number | null;
  signal: string | null;
  signals: EngineSignal[];
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Run a prepared worker in `cwd` to completion (killed after `timeoutMs`) and parse its stdout. */
export async function runWorker(prepared: PreparedAgentWorker, cwd: string, timeoutMs = 60_000): Promise<WorkerRun> {
  const t0 = Date.now();
  const res = await execa(prepared.argv[0]!, prepared.argv.slice(1), { cwd, env: prepared.env, stdin: "ignore", reject: false, timeout: timeoutMs });
  const adapter = prepared.createAdapter();
  const stdout = String(res.stdout);
  const signals = stdout.split("\n").flatMap((line) => adapter.feed(line));
  const exit = { exitCode: res.exitCode ?? null, signal: res.signal ?? null };
  signals.push(...adapter.end(exit));
  return { ...exit, signals, stdout, stderr: String(res.stderr), durationMs: Date.now() - t0 };
}

/** The signals of one kind. */
export function ofKind<K extends EngineSignal["kind"]>(signals: EngineSignal[], kind: K): Extract<EngineSignal, { kind: K }>[] {
  return signals.filter((s): s is Extract<EngineSignal, { kind: K }> => s.kind === kind);
}

/** Commit subjects on `branch` in `repo`, newest first. */
export async function subjects(repo: string, branch: string): Promise<string[]> {
  return (await git(["log", "--format=%s", "--end-of-options", branch], { cwd: repo })).stdout.split("\n").filter(Boolean);
}
