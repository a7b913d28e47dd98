/**
 * Test helpers for the scheduler on a real runtime: lanes whose worker (a real shell process in
 * the lane's worktree) runs until the test opens its gate, a second registered repo, and the order
 * in which lanes were started, read from `lane.state_changed` events. Not imported by runtime code.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { LaneView } from "@/lib/api";
import type { TaskPacketInput } from "@/lib/task-packet";
import { commitFile, initRepo, makeTempDir } from "../git/git.testing";
import type { Runtime } from "../runtime";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { isTerminal, shellPacket, startTestRuntime, waitForLane, type TestRuntime } from "../testing/runtime-harness";

/** Waits (polling a file, 20 ms) until `.gate` exists in its worktree, then exits with the code written in it. */
const GATE_SCRIPT = "until [ -e .gate ]; do sleep 0.02; done; exit $(cat .gate)";
const COMMIT = "git -c user.name=t -c user.email=t@t.invalid commit -qm";

/** A shell lane that runs until {@link openGate}; `commit` makes it commit `out.txt` first. */
export function gated(repoId: string, label: string, extra: Partial<TaskPacketInput> & { commit?: boolean } = {}): TaskPacketInput {
  const { commit, ...rest } = extra;
  const script = commit ? `echo ${label} > out.txt && git add out.txt && ${COMMIT} out && ${GATE_SCRIPT}` : GATE_SCRIPT;
  return { ...shellPacket(repoId, ["sh", "-c", script], rest), objective: label };
}

/** Let a gated lane's worker exit with `code` (written then renamed, so the worker never reads a half-written gate). */
export async function openGate(rt: Runtime, laneId: string, code = 0): Promise<void> {
  const lane = await rt.lanes.get(laneId);
  const gate = path.join(lane.worktreePath, ".gate");
  await fs.writeFile(`${gate}.tmp`, `${code}\n`);
  await fs.rename(`${gate}.tmp`, gate);
}

export const running = (rt: Runtime, laneId: string): Promise<LaneView> => waitForLane(rt, laneId, (l) => l.state === "running");

const CLOSING = new Set(["lane.finished", "lane.failed", "lane.killed"]);

/**
 * Resolve once the lane's closing event (`lane.finished|failed|killed`) is published and the
 * scheduler has applied it (slot freed, dependants updated).
 */
export async function settled(rt: Runtime, laneId: string): Promise<LaneView> {
  const closed = async () => (await rt.events.listAfter(0, { laneId, limit: 5000 })).events.some((e) => CLOSING.has(e.type));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`lane ${laneId} did not settle`))), 30_000);
    let chain = Promise.resolve();
    const check = () => {
      chain = chain.then(async () => {
        if (!(await closed())) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    };
    const off = rt.bus.on("lane.event", (e) => e.laneId === laneId && CLOSING.has(e.type) && check());
    check();
  });
  await rt.scheduler.idle();
  return rt.lanes.get(laneId);
}

/** Open the gate and wait for the lane to end and the scheduler to have taken it into account. */
export async function finish(rt: Runtime, laneId: string, code = 0): Promise<LaneView> {
  await openGate(rt, laneId, code);
  await waitForLane(rt, laneId, isTerminal);
  return settled(rt, laneId);
}

/** For each lane in order: wait until it runs, then finish it successfully (as `finish`). */
export async function runToSuccess(rt: Runtime, ...laneIds: string[]): Promise<void> {
  for (const id of laneIds) {
    await running(rt, id);
    await finish(rt, id);
  }
}

/** Kill every lane that has not ended (test cleanup). */
export async function killAll(rt: Runtime): Promise<void> {
  for (const lane of await rt.lanes.list()) if (!isTerminal(lane)) await rt.lanes.kill(lane.id, { graceMs: 200 }).catch(() => undefined);
  await rt.scheduler.idle();
}

/** Register a second real repo in the runtime; `cleanup` removes its directory. */
export async function addRepo(rt: Runtime): Promise<{ repoId: string; cleanup: () => Promise<void> }> {
  const repo = await makeTempDir("laneboard-repo2-");
  await initRepo(repo.dir);
  await commitFile(repo.dir, "package.json", '{ "name": "second" }\n', "add package.json");
  const view = await rt.repos.register({ path: repo.dir });
  return { repoId: view.id, cleanup: repo.cleanup };
}

/** Lane ids in the order they were started (`queued → starting`), from now on. */
export function recordStarts(rt: Runtime): { ids: string[]; stop: () => void } {
  const ids: string[] = [];
  const stop = rt.bus.on("lane.event", (e) => {
    if (e.type === "lane.state_changed" && e.payload.from === "queued" && e.payload.to === "starting" && e.laneId) ids.push(e.laneId);
  });
  return { ids, stop };
}

/**
 * Start lanes one at a time (cap 1) and finish each as soon as it runs, until `count` have
 * started; returns their ids in start order. `begin` (e.g. raising the cap) runs once starts are
 * being recorded.
 */
export async function drainOneByOne(rt: Runtime, count: number, begin?: () => Promise<unknown>): Promise<string[]> {
  const order: string[] = [];
  const starts = recordStarts(rt);
  try {
    await begin?.();
    while (order.length < count) {
      const next = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${order.length} of ${count} lanes started`)), 30_000);
        const poll = () => {
          const id = starts.ids[order.length];
          if (id) {
            clearTimeout(timer);
            off();
            resolve(id);
          }
        };
        const off = rt.bus.on("lane.event", poll);
        poll();
      });
      order.push(next);
      await running(rt, next);
      await finish(rt, next);
    }
  } finally {
    starts.stop();
  }
  return order;
}

/** Objectives of lanes, by id (tests name lanes through their objective). */
export async function labels(rt: Runtime, ids: string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await rt.lanes.get(id)).objective));
}

/** Caps with room for every test: 4 agents, 2 checks, 2 background jobs, no per-repo limits. */
export const ROOMY_CAPS = { global: { agent: 4, check: 2, background: 2 }, perRepo: { agent: null, check: null, background: null } };

/**
 * One runtime for a describe block (vitest hooks registered here): started once, caps reset
 * before each test, every lane killed after each. The returned object reads through to the
 * runtime once it has started.
 */
export function useSchedulerRuntime(caps: unknown = ROOMY_CAPS): TestRuntime {
  let h: TestRuntime | null = null;
  const get = () => h ?? (() => { throw new Error("the scheduler runtime is not started yet (use it inside a test)"); })();
  beforeAll(async () => {
    h = await startTestRuntime({ workerCap: 4 });
  });
  afterAll(() => get().close());
  beforeEach(async () => {
    await get().rt.scheduler.settings.setCaps(caps);
  });
  afterEach(() => killAll(get().rt));
  return {
    get rt() { return get().rt; },
    get dataDir() { return get().dataDir; },
    get repoPath() { return get().repoPath; },
    get repoId() { return get().repoId; },
    close: () => get().close(),
  };
}
