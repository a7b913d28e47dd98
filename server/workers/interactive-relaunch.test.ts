/**
 * A start of an interactive worker made again in place (a start cut by a stopped server, made
 * again at the next boot: lanes/recover-starts.ts) finds the tmux session of that same worker
 * still running on the data dir's tmux server: its name is the worker's (`lb-<workerId>`), and
 * tmux sessions outlive the server. The driver replaces it deliberately (nothing follows it, and it
 * may hold a half-delivered prompt): the stale agent is gone, a fresh one runs under the name.
 * Real tmux, a stand-in agent (fixtures/fake-agent.sh), a real database.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { WorkerSpecSchema } from "@/lib/task-packet";
import { makeTempDir } from "../git/git.testing";
import { tmuxSocketFor } from "../engines/interactive";
import { FIXTURES } from "../engines/interactive/interactive.testing";
import { TmuxServer } from "../engines/interactive/tmux";
import { readProcStat } from "../processes/procfs";
import { closeDatabase, openDatabase } from "../store/db";
import { InteractiveDriver } from "./interactive-driver";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** The process exists and is not a zombie. */
const isAlive = (pid: number) => ![undefined, "Z"].includes(readProcStat(pid)?.state);

async function driverOn(dataDir: string): Promise<InteractiveDriver> {
  const db = await openDatabase(dataDir);
  cleanups.push(() => closeDatabase(db));
  return new InteractiveDriver({ db, dataDir, trustedRepos: [], settings: {}, workers: { attachSession: () => () => undefined, signal: async () => undefined } });
}

it("launching a worker whose tmux session a cut start left behind replaces that session instead of failing on its name", async () => {
  const data = await makeTempDir("lb-relaunch-");
  cleanups.push(data.cleanup);
  const tmux = new TmuxServer(tmuxSocketFor(data.dir));
  cleanups.push(() => tmux.killServer());
  const worktreePath = path.join(data.dir, "worktree");
  await mkdir(worktreePath);
  const launch = { workerId: "w-relaunch", laneDir: path.join(data.dir, "lanes", "l1"), worktreePath, repoPath: worktreePath, spec: WorkerSpecSchema.parse({ engine: "claude", mode: "interactive", prompt: "say hello", command: ["sh", path.join(FIXTURES, "fake-agent.sh")] }) };
  const name = InteractiveDriver.sessionName(launch.workerId);

  // The first server launched the session, then stopped before its host ran (the session stays).
  const first = await driverOn(data.dir);
  await first.launch(launch);
  await first.shutdown({ kill: false });
  const stalePane = (await tmux.findPane(name))!;
  const stalePid = (await tmux.snapshot(stalePane))!.pid!;
  expect(isAlive(stalePid)).toBe(true);

  // The next server makes the start again: the same worker, so the same session name.
  const second = await driverOn(data.dir);
  const { argv } = await second.launch(launch);
  expect(argv).toContain(name);
  expect(isAlive(stalePid)).toBe(false);
  expect(await tmux.listSessions()).toEqual([name]);
  const freshPane = (await tmux.findPane(name))!;
  expect(freshPane).not.toBe(stalePane);
  expect((await tmux.snapshot(freshPane))!.dead).toBe(false);
  await second.session(launch.workerId)!.kill();
}, 60_000);
