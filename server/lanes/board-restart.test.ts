/**
 * The board's incremental read model in the real runtime: lanes run real processes and checks,
 * and at each quiet point the board equals a recomputation from the database; after a restart on
 * the same data directory the new server's board shows the same lanes and keeps following writes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LaneView } from "@/lib/api";
import { createRuntime, type Runtime } from "../runtime";
import { isTerminal, shellPacket, startTestRuntime, waitForLane, type TestRuntime } from "../testing/runtime-harness";
import { LaneViews } from "./lane-views";

const SH = (script: string) => ["sh", "-c", script];

/** A new read model over the runtime's services, read once: the from-scratch answer. */
async function recomputed(rt: Runtime): Promise<LaneView[]> {
  const views = new LaneViews({ db: rt.db, scheduler: rt.scheduler, summaries: rt.summaries, freshness: rt.freshness, bus: rt.bus, sessions: rt.workers });
  try {
    return await views.list();
  } finally {
    views.stop();
  }
}

/**
 * The board's lanes and the recomputation, read with no event appended in between (services such
 * as recovery still react to settled lanes, so a pair that straddles an event is read again) and
 * with freshness settled: after a boot each lane's `baseMoved` is null until the background
 * refresh has read git, which appends no event when the counts did not change.
 */
async function boardAndRecomputed(rt: Runtime): Promise<[LaneView[], LaneView[]]> {
  for (;;) {
    await rt.scheduler.idle();
    await rt.freshness.settled();
    await rt.events.flush();
    const cursor = await rt.events.latestId();
    const pair: [LaneView[], LaneView[]] = [(await rt.lanes.board()).lanes, await recomputed(rt)];
    if ((await rt.events.latestId()) === cursor) return pair;
  }
}

/**
 * What a restart must keep of each lane. Not compared: `baseMoved` (recomputed from git after
 * boot) and what events appended after the last read (recovery's escalation of the red lane,
 * written as the first server stops) move: the summary, the last event, the flags.
 */
const persisted = (lanes: LaneView[]) => lanes.map((l) => [l.id, l.state, l.attempt, l.lastExitCode, l.checks, l.currentProcessId, l.worker?.id, l.worker?.state, l.schedule]);

describe("the board after real lanes and a restart", () => {
  let h: TestRuntime;
  let second: Runtime | null = null;
  beforeAll(async () => {
    h = await startTestRuntime({ workerCap: 2 });
  });
  afterAll(async () => {
    await second?.quit();
    await h.close();
  });

  it("GET /api/v1/board equals a recomputation while lanes run, settle, restart, and after a server restart", async () => {
    const { rt, repoId } = h;
    await rt.lanes.board(); // loaded before anything happens: everything after is incremental
    const green = await rt.lanes.create(shellPacket(repoId, SH("echo done"), { acceptance: [{ level: "targeted", argv: ["true"] }] }));
    const red = await rt.lanes.create(shellPacket(repoId, SH("echo trying"), { acceptance: [{ level: "targeted", argv: ["false"] }] }));
    const killed = await rt.lanes.create(shellPacket(repoId, ["sleep", "60"]));
    await waitForLane(rt, killed.id, (l) => l.state === "running");
    await rt.lanes.kill(killed.id);
    for (const lane of [green, red, killed]) await waitForLane(rt, lane.id, isTerminal);
    let [board, scratch] = await boardAndRecomputed(rt);
    expect(board).toEqual(scratch);
    expect(new Map(board.map((l) => [l.id, l.state]))).toEqual(new Map([[green.id, "finished"], [red.id, "failed"], [killed.id, "killed"]]));
    expect(board.find((l) => l.id === red.id)!.checks.targeted?.status).toBe("red");

    await rt.lanes.restart(red.id, { by: "test" });
    await waitForLane(rt, red.id, (l) => isTerminal(l) && l.attempt === 2);
    [board, scratch] = await boardAndRecomputed(rt);
    expect(board).toEqual(scratch);
    expect(board.find((l) => l.id === red.id)!.attempt).toBe(2);

    await rt.quit();
    second = await createRuntime(rt.config);
    const [afterRestart, scratchAfter] = await boardAndRecomputed(second);
    expect(afterRestart).toEqual(scratchAfter);
    expect(persisted(afterRestart)).toEqual(persisted(board));

    // The new server's read model follows writes too.
    await second.lanes.restart(killed.id, { by: "test" });
    await waitForLane(second, killed.id, (l) => l.attempt === 2 && l.state === "running");
    await second.lanes.kill(killed.id);
    await waitForLane(second, killed.id, isTerminal);
    [board, scratch] = await boardAndRecomputed(second);
    expect(board).toEqual(scratch);
    expect(board.find((l) => l.id === killed.id)).toMatchObject({ state: "killed", attempt: 2 });
  }, 240_000); // three lanes run, two restarts and a server restart: about a minute at a load of 25 on two cores
});
