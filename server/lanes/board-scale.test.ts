/**
 * The board's read model at a scale where one `IN` list per kind of related row exceeded SQLite's
 * bound-parameter limit (Prisma P2029 at 1,000 lanes): the views are read in bounded batches.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedLanes } from "../testing/seed-lanes";
import { startTestRuntime, type TestRuntime } from "../testing/runtime-harness";

describe("lane views at 1,200 lanes", () => {
  let h: TestRuntime;
  let ids: string[];
  beforeAll(async () => {
    h = await startTestRuntime();
    ids = await seedLanes(h.rt.db, { repoId: h.repoId, count: 1200, worktreeRoot: `${h.dataDir}/worktrees` });
  }, 120_000);
  afterAll(async () => {
    await h.close();
  });

  it("GET /api/v1/board's read model answers every lane with its summary, worker, process and last event", async () => {
    const board = await h.rt.lanes.board();
    expect(board.lanes).toHaveLength(1200);
    const byId = new Map(board.lanes.map((l) => [l.id, l]));
    const red = byId.get(ids[7]!)!;
    expect(red.state).toBe("failed");
    expect(red.checks.targeted?.status).toBe("red");
    expect(red.lastEvent?.type).toBe("lane.failed");
    expect(red.currentProcessId).toBe(`${ids[7]}-p`);
    expect(red.worker?.state).toBe("finished");
    expect(red.summary?.phase).toBe("failed");
    expect(byId.get(ids[1199]!)!.summary?.phase).toBe("killed");
  });

  it("GET /api/v1/lanes?repoId answers the same lanes", async () => {
    expect(await h.rt.lanes.list({ repoId: h.repoId })).toHaveLength(1200);
  });
});
