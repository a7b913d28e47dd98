/**
 * Test harness: a real runtime (SQLite file, supervisor, scheduler) over a fresh temp data
 * directory, and a real git repo registered in it. Waiting is event-driven: {@link waitForLane}
 * re-checks a lane on every lane event for it instead of sleeping. Not imported by runtime code.
 */
import type { LaneView } from "@/lib/api";
import type { LaneEvent, LaneEventType } from "@/lib/lane-events";
import type { TaskPacketInput } from "@/lib/task-packet";
import { ConfigSchema, type ConfigInput } from "../config";
import { commitFile, initRepo, makeTempDir } from "../git/git.testing";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { createRuntime, type Runtime } from "../runtime";
import { setRuntime } from "../runtime-global";
import { outputLines } from "@/lib/log-chunk";
import { testDatabaseUrl } from "./test-database";

export interface TestRuntime {
  rt: Runtime;
  dataDir: string;
  repoPath: string;
  repoId: string;
  /** Quit the runtime (killing its processes) and remove the temp dirs. */
  close(): Promise<void>;
}

export async function startTestRuntime(config: Partial<ConfigInput> = {}): Promise<TestRuntime> {
  const data = await makeTempDir("laneboard-rt-");
  const repo = await makeTempDir("laneboard-repo-");
  await initRepo(repo.dir);
  await commitFile(repo.dir, "package.json", '{ "name": "fixture" }\n', "add package.json");
  const rt = await createRuntime(ConfigSchema.parse({ dataDir: data.dir, databaseUrl: await testDatabaseUrl(data.dir), demo: false, killGraceMs: 1000, workerCap: 4, killOnExit: true, ...config }));
  // On PostgreSQL the node runs the scheduler once it is elected (server/cluster/leader.ts), a moment after it starts.
  await rt.cluster.scheduler.leading();
  const repoView = await rt.repos.register({ path: repo.dir });
  return {
    rt,
    dataDir: data.dir,
    repoPath: repo.dir,
    repoId: repoView.id,
    async close() {
      await rt.quit();
      await data.cleanup();
      await repo.cleanup();
    },
  };
}

/** Options of {@link runtimePerTest} / {@link runtimePerFile}. */
export interface RuntimeHookOptions {
  /** Also install it as the process's runtime (setRuntime), for tests that call route handlers. */
  global?: boolean;
}

function runtimeWith(before: typeof beforeEach, after: typeof afterEach, config: Partial<ConfigInput>, opts: RuntimeHookOptions): TestRuntime {
  let current: TestRuntime | null = null;
  const get = (): TestRuntime => {
    if (!current) throw new Error("the test runtime is not started yet (use it inside a test or hook)");
    return current;
  };
  before(async () => {
    current = await startTestRuntime(config);
    if (opts.global) setRuntime(current.rt);
  });
  after(async () => {
    if (opts.global) setRuntime(undefined);
    await current?.close();
    current = null;
  });
  return {
    get rt() {
      return get().rt;
    },
    get dataDir() {
      return get().dataDir;
    },
    get repoPath() {
      return get().repoPath;
    },
    get repoId() {
      return get().repoId;
    },
    close: () => get().close(),
  };
}

/**
 * A fresh test runtime for every test of the calling file (vitest beforeEach/afterEach), closed
 * after it. The returned handle reads through to the current test's runtime; its fields throw
 * outside a test. Hooks the file registers after this call run after the runtime started.
 */
export function runtimePerTest(config: Partial<ConfigInput> = {}, opts: RuntimeHookOptions = {}): TestRuntime {
  return runtimeWith(beforeEach, afterEach, config, opts);
}

/** One test runtime shared by all tests of the calling file (vitest beforeAll/afterAll); see {@link runtimePerTest}. */
export function runtimePerFile(config: Partial<ConfigInput> = {}, opts: RuntimeHookOptions = {}): TestRuntime {
  return runtimeWith(beforeAll, afterAll, config, opts);
}

let branchSeq = 0;
/** A shell-engine packet for the harness repo; `argv` is the worker command. */
export function shellPacket(repoId: string, argv: string[], extra: Partial<TaskPacketInput> = {}): TaskPacketInput {
  return {
    objective: `test lane ${++branchSeq}`,
    repo: repoId,
    branch: `lane/test-${process.pid}-${branchSeq}`,
    worker: { engine: "shell", command: argv },
    ...extra,
  };
}

/**
 * True once the events of the lane's current state are in the log: its newest `lane.state_changed`
 * leads to that state (a lane never moved is still in the state it was created in). A transition
 * writes the row first and appends its events after (server/records/lane-store.ts
 * `transitionLane`), so a view can show `failed` while its `lane.failed` is not stored yet.
 */
export async function stateLogged(rt: Runtime, lane: Pick<LaneView, "id" | "state">): Promise<boolean> {
  const { events } = await rt.events.listBefore(undefined, { laneId: lane.id, types: ["lane.state_changed"], limit: 1 });
  const newest = events[0];
  return newest ? newest.type === "lane.state_changed" && newest.payload.to === lane.state : lane.state === "queued";
}

/**
 * Resolve with the lane view once `predicate` holds and the events of the state it is in are
 * logged ({@link stateLogged}; as `GET /api/v1/lanes/:id/await` answers only once the closing
 * event is), re-checking after each event of that lane. So a test that waited for a lane to end
 * finds why it ended in its events.
 * @throws Error after `timeoutMs` (default 30 000 ms) with the last state seen.
 */
export async function waitForLane(rt: Runtime, laneId: string, predicate: (lane: LaneView) => boolean, timeoutMs = 30_000): Promise<LaneView> {
  let state = "unknown";
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => finish(() => reject(new Error(`lane ${laneId} did not reach the expected condition in ${timeoutMs} ms (state ${state})`))), timeoutMs);
    const finish = (then: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      off();
      then();
    };
    let checking = Promise.resolve();
    // One check at a time, in order; subscribed before the first check so no event falls between.
    const check = () => {
      checking = checking.then(async () => {
        if (settled) return;
        const lane = await rt.lanes.get(laneId);
        state = lane.state;
        if (predicate(lane) && (await stateLogged(rt, lane))) finish(() => resolve(lane));
      }).catch((err: unknown) => finish(() => reject(err)));
    };
    const off = rt.bus.on("lane.event", (event) => {
      if (event.laneId === laneId) check();
    });
    check();
  });
}

/** Resolve with the first event of `type` (for `laneId`, if given) published after the call. */
export function nextEvent<T extends LaneEventType>(rt: Runtime, type: T, laneId?: string, timeoutMs = 30_000): Promise<Extract<LaneEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${type} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = rt.bus.on("lane.event", (event) => {
      if (event.type !== type || (laneId && event.laneId !== laneId)) return;
      clearTimeout(timer);
      off();
      resolve(event as Extract<LaneEvent, { type: T }>);
    });
  });
}

export const isTerminal = (l: LaneView) => ["finished", "failed", "killed", "lost"].includes(l.state);

/**
 * Resolve once a line containing `text` of the lane's output has been read (live, or already in
 * the log when called).
 */
export async function waitForOutput(rt: Runtime, laneId: string, text: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no output line containing ${JSON.stringify(text)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      off();
      resolve();
    };
    const off = rt.bus.on("process.output", (batch) => {
      if (batch.laneId === laneId && outputLines(batch).some((l) => l.text.includes(text))) done();
    });
    void rt.lanes.logs(laneId, { limit: 10_000 }).then((logs) => {
      if (logs.lines.some((l) => l.text.includes(text))) done();
    });
  });
}
