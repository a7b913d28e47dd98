/**
 * Test helpers for the agent engines: a real git repo with a lane worktree in a temp directory,
 * and running a prepared agent worker as a real child process (stdin from /dev/null, as the
 * supervisor's `stdin: "null"` does) with its stdout fed line by line to the engine's adapter.
 * Not imported by runtime code.
 */
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, expect } from "vitest";
import { git } from "../git/runner";
import { initRepo, makeTempDir } from "../git/git.testing";
import { startModelServer, type ModelServer } from "../model-server/model-server";
import type { Conversation } from "../model-server/script";
import { prepareAgentWorker, type AgentEngine, type AgentEngineSettings, type PreparedAgentWorker } from "./agent-engines";
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
/**
 * What an adapter's `feed` returns for lines it can only warn about, one per message, as expected
 * values for `toEqual`: exactly one warning signal each, whose message equals the string (or
 * matches the RegExp).
 */
export function warnings(...messages: (string | RegExp)[]): unknown[][] {
  return messages.map((m) => [expect.objectContaining({ kind: "warning", message: typeof m === "string" ? m : expect.stringMatching(m) })]);
}

export async function subjects(repo: string, branch: string): Promise<string[]> {
  return (await git(["log", "--format=%s", "--end-of-options", branch], { cwd: repo })).stdout.split("\n").filter(Boolean);
}

/** One engine's test lane: a fresh fixture per test and the model server the last run started. */
export interface EngineLane {
  /** The current test's fixture (replaced before each test, removed after it). */
  fx: LaneFixture;
  /** The model server of the current test, if it started one (closed after the test). */
  server: ModelServer | null;
  /**
   * Start a model server scripted with `turns` for a prompt containing "LANE-TASK", prepare
   * `engine`'s worker against it and run it to completion in the fixture's worktree.
   */
  run(turns: Conversation["turns"], settings?: AgentEngineSettings, serverOpts?: { apiKey?: string }): Promise<WorkerRun>;
}

/**
 * Registers a per-test lane fixture and model server for `engine` (vitest beforeEach/afterEach in
 * the calling file) and returns the handle the tests use. `settingsFor` gives the engine's
 * settings for the server the run started (its base URL); a run's own settings override them.
 */
export function engineLanePerTest(engine: AgentEngine, settingsFor: (server: ModelServer) => AgentEngineSettings): EngineLane {
  const lane: EngineLane = {
    fx: undefined as unknown as LaneFixture,
    server: null,
    async run(turns, settings = {}, serverOpts = {}) {
      const server = await startModelServer({ script: [{ name: "lane", match: "LANE-TASK", turns }], ...serverOpts });
      lane.server = server;
      const ctx = { laneDir: lane.fx.laneDir, worktreePath: lane.fx.worktree };
      const prepared = await prepareAgentWorker(engine, { prompt: "LANE-TASK: do the work", env: {} }, ctx, { ...settingsFor(server), ...settings });
      return runWorker(prepared, lane.fx.worktree);
    },
  };
  beforeEach(async () => {
    lane.fx = await makeLaneFixture();
  });
  afterEach(async () => {
    await lane.server?.close();
    lane.server = null;
    await lane.fx.cleanup();
  });
  return lane;
}
