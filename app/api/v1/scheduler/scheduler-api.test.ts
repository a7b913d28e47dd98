/**
 * The scheduler's HTTP API through its real route handlers against a real runtime: caps, queue,
 * rate limits, budgets, a lane's budget and schedule — and bad input: each gets a 4xx naming the
 * field, and the queue (and the repo's branches) are unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git } from "@/server/git/git";
import { setRuntime } from "@/server/runtime-global";
import { addRepo, gated } from "@/server/scheduler/scheduler.testing";
import { startTestRuntime, type TestRuntime } from "@/server/testing/runtime-harness";
import { apiRequest } from "@/server/testing/auth";
import * as laneBudget from "../lanes/[id]/budget/route";
import * as laneSchedule from "../lanes/[id]/schedule/route";
import * as lanes from "../lanes/route";
import * as budgets from "./budgets/route";
import * as caps from "./caps/route";
import * as limits from "./limits/route";
import * as queue from "./queue/route";

let h: TestRuntime;
let other: Awaited<ReturnType<typeof addRepo>>;
beforeAll(async () => {
  h = await startTestRuntime({ workerCap: 2 });
  other = await addRepo(h.rt);
  setRuntime(h.rt);
  // Hold everything: these tests look at the queue, not at running lanes.
  await h.rt.scheduler.settings.setCaps({ global: { agent: 0 } });
});
afterAll(async () => {
  setRuntime(undefined);
  await h.close();
  await other.cleanup();
});

const none = { params: Promise.resolve({}) };
const id = (laneId: string) => ({ params: Promise.resolve({ id: laneId }) });
const req = (method: string, url: string, body?: unknown) => apiRequest(method, url, body);

async function json<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  expect(res.status).toBe(status);
  return (await res.json()) as T;
}

/** The queue, the lanes and the repo's branches: what a refused request must leave unchanged. */
async function snapshot(): Promise<unknown> {
  return {
    queue: await json(await queue.GET(req("GET", "/api/v1/scheduler/queue"), none)),
    lanes: (await h.rt.lanes.list()).map((l) => [l.id, l.state, l.queuePosition, l.schedule]),
    caps: (await h.rt.scheduler.settings.caps()).caps,
    // Names only: a queued lane's worktree is checked out after its create answered.
    branches: (await git(["branch", "--list", "--format=%(refname:short)"], { cwd: h.repoPath })).stdout,
  };
}

async function expect422(res: Response, field: string, message?: string): Promise<void> {
  const body = await json<{ error: { code: string; message: string; details?: { fields?: string[] } } }>(res, 422);
  expect(body.error.code).toBe("invalid_input");
  expect(body.error.message).toContain(field);
  if (message) expect(body.error.message).toContain(message);
}

describe("scheduler API", () => {
  it("GET/PUT /api/v1/scheduler/caps – merges a partial update and reports running and queued counts", async () => {
    const view = await json<{ caps: { global: Record<string, number>; perRepo: Record<string, number | null>; repos: Record<string, unknown> } }>(
      await caps.PUT(req("PUT", "/api/v1/scheduler/caps", { perRepo: { agent: 3 }, repos: { [other.repoId]: { background: 1 } } }), none),
    );
    expect(view.caps).toEqual({ global: { agent: 0, check: 2, background: 2 }, perRepo: { agent: 3, check: null, background: null }, repos: { [other.repoId]: { background: 1 } } });
    const got = await json(await caps.GET(req("GET", "/api/v1/scheduler/caps"), none));
    expect(got).toMatchObject({ caps: view.caps, running: { global: { agent: 0, check: 0, background: 0 } }, queued: { agent: 0 } });
    await json(await caps.PUT(req("PUT", "/api/v1/scheduler/caps", { perRepo: { agent: null }, repos: { [other.repoId]: null } }), none));
  });

  it("GET /api/v1/scheduler/queue – queued lanes in dispatch order with position and reason", async () => {
    const low = await json<{ id: string }>(await lanes.POST(req("POST", "/api/v1/lanes", gated(h.repoId, "api-low")), none), 201);
    const high = await json<{ id: string; waitingFor: unknown; schedule: unknown }>(await lanes.POST(req("POST", "/api/v1/lanes", gated(h.repoId, "api-high", { priority: 9, deadline: new Date(Date.now() + 60_000).toISOString() })), none), 201);
    expect(high.waitingFor).toEqual({ kind: "cap", pool: "agent", scope: "global" });
    expect(high.schedule).toMatchObject({ priority: 9, pool: "agent", deadline: expect.any(String) });
    const q = await json<{ total: number; entries: Array<{ laneId: string; position: number; reason: string }> }>(await queue.GET(req("GET", `/api/v1/scheduler/queue?repoId=${h.repoId}&limit=10`), none));
    expect(q.entries.map((e) => [e.laneId, e.position, e.reason])).toEqual([
      [high.id, 1, "waiting for a free agent slot (global cap)"],
      [low.id, 2, "waiting for a free agent slot (global cap)"],
    ]);
    const patched = await json<{ queuePosition: number }>(await laneSchedule.PATCH(req("PATCH", `/api/v1/lanes/${low.id}/schedule`, { priority: 10 }), id(low.id)));
    expect(patched.queuePosition).toBe(1);
  });

  it("PUT /api/v1/scheduler/limits and /budgets, PUT /api/v1/lanes/:id/budget", async () => {
    expect(await json(await limits.PUT(req("PUT", "/api/v1/scheduler/limits", { claude: { requestsPerMinute: 30 } }), none))).toEqual({ claude: { limit: { requestsPerMinute: 30 }, retryAt: null } });
    const b = await json<{ daily: unknown; repos: Record<string, { budget: unknown }> }>(await budgets.PUT(req("PUT", "/api/v1/scheduler/budgets", { daily: { maxCostUsd: 20 }, repos: { [h.repoId]: { total: { maxTokens: 1_000_000 } } } }), none));
    expect(b.daily).toEqual({ maxCostUsd: 20 });
    expect(b.repos[h.repoId]?.budget).toEqual({ total: { maxTokens: 1_000_000 } });
    const lane = await json<{ id: string }>(await lanes.POST(req("POST", "/api/v1/lanes", gated(h.repoId, "api-budget")), none), 201);
    const withBudget = await json<{ schedule: { budget: unknown } }>(await laneBudget.PUT(req("PUT", `/api/v1/lanes/${lane.id}/budget`, { budget: { maxTokens: 5000, maxCostUsd: 2.5 } }), id(lane.id)));
    expect(withBudget.schedule.budget).toEqual({ maxTokens: 5000, maxCostUsd: 2.5 });
  });

  describe("bad input: 4xx naming the field, queue unchanged", () => {
    const cases: Array<[string, () => Promise<Response>, string, string?]> = [
      ["a negative cap", () => caps.PUT(req("PUT", "/api/v1/scheduler/caps", { global: { agent: -1 } }), none), "global.agent"],
      ["a fractional per-repo cap", () => caps.PUT(req("PUT", "/api/v1/scheduler/caps", { perRepo: { check: 1.5 } }), none), "perRepo.check"],
      ["a priority outside -1000..1000", () => lanes.POST(req("POST", "/api/v1/lanes", gated(h.repoId, "bad", { priority: 5000 })), none), "priority"],
      ["a deadline in the past", () => lanes.POST(req("POST", "/api/v1/lanes", gated(h.repoId, "bad", { deadline: "2020-01-01T00:00:00Z" })), none), "deadline", "must not be in the past"],
      ["a budget of NaN", () => lanes.POST(req("POST", "/api/v1/lanes", { ...gated(h.repoId, "bad"), budget: { maxTokens: "NaN" } }), none), "budget.maxTokens"],
      ["a negative budget", () => lanes.POST(req("POST", "/api/v1/lanes", gated(h.repoId, "bad", { budget: { maxCostUsd: -1 } })), none), "budget.maxCostUsd"],
      ["a dependency that does not exist", () => lanes.POST(req("POST", "/api/v1/lanes", gated(h.repoId, "bad", { dependsOn: ["ghost"] })), none), "dependsOn.0", "no lane ghost"],
      ["an unknown pool", () => lanes.POST(req("POST", "/api/v1/lanes", { ...gated(h.repoId, "bad"), pool: "gpu" }), none), "pool"],
      ["a budget of NaN on a lane", () => laneBudget.PUT(req("PUT", "/api/v1/lanes/x/budget", { budget: { maxTokens: "NaN" } }), id("x")), "budget.maxTokens"],
      ["a rate limit of 0", () => limits.PUT(req("PUT", "/api/v1/scheduler/limits", { codex: { requestsPerMinute: 0 } }), none), "codex.requestsPerMinute"],
      // 1e-12 per minute made the next lane start a 500 (RangeError: Invalid time value) and left it killed.
      ["a rate limit of 1e-12 per minute", () => limits.PUT(req("PUT", "/api/v1/scheduler/limits", { shell: { requestsPerMinute: 1e-12 } }), none), "shell.requestsPerMinute", "at least 0.001"],
      ["a burst of 1e300", () => limits.PUT(req("PUT", "/api/v1/scheduler/limits", { shell: { requestsPerMinute: 1, burst: 1e300 } }), none), "shell.burst"],
      ["a budget for an unknown repo", () => budgets.PUT(req("PUT", "/api/v1/scheduler/budgets", { repos: { nope: { daily: { maxTokens: 1 } } } }), none), "repos.nope"],
    ];
    for (const [name, call, field, message] of cases) {
      it(`${name} → 422 naming ${field}`, async () => {
        const before = await snapshot();
        await expect422(await call(), field, message);
        expect(await snapshot()).toEqual(before);
      });
    }

    it("a dependency on a lane of another repo → 422 naming dependsOn.0", async () => {
      const foreign = await json<{ id: string }>(await lanes.POST(req("POST", "/api/v1/lanes", gated(other.repoId, "foreign")), none), 201);
      const before = await snapshot();
      await expect422(await lanes.POST(req("POST", "/api/v1/lanes", gated(h.repoId, "bad", { dependsOn: [foreign.id] })), none), "dependsOn.0", "belongs to another repo");
      expect(await snapshot()).toEqual(before);
    });

    it("a self-dependency and a cycle → 422 naming dependsOn (the cycle spelled out)", async () => {
      const a = await json<{ id: string }>(await lanes.POST(req("POST", "/api/v1/lanes", gated(h.repoId, "cyc-a")), none), 201);
      const b = await json<{ id: string }>(await lanes.POST(req("POST", "/api/v1/lanes", gated(h.repoId, "cyc-b", { dependsOn: [a.id] })), none), 201);
      const before = await snapshot();
      await expect422(await laneSchedule.PATCH(req("PATCH", `/api/v1/lanes/${a.id}/schedule`, { dependsOn: [a.id] }), id(a.id)), "dependsOn.0", "cannot depend on itself");
      await expect422(await laneSchedule.PATCH(req("PATCH", `/api/v1/lanes/${a.id}/schedule`, { dependsOn: [b.id] }), id(a.id)), "dependsOn", `would create a cycle: ${a.id} → ${b.id} → ${a.id}`);
      await expect422(await laneSchedule.PATCH(req("PATCH", `/api/v1/lanes/${a.id}/schedule`, { deadline: Date.now() - 1 }), id(a.id)), "deadline");
      await expect422(await laneSchedule.PATCH(req("PATCH", `/api/v1/lanes/${a.id}/schedule`, { priority: -1001 }), id(a.id)), "priority");
      expect(await snapshot()).toEqual(before);
    });

    it("rescheduling a lane that is not queued → 409; an unknown lane → 404", async () => {
      expect((await laneSchedule.PATCH(req("PATCH", "/api/v1/lanes/nope/schedule", { priority: 1 }), id("nope"))).status).toBe(404);
      const a = await json<{ id: string }>(await lanes.POST(req("POST", "/api/v1/lanes", gated(h.repoId, "gone")), none), 201);
      await h.rt.lanes.kill(a.id);
      expect((await laneSchedule.PATCH(req("PATCH", `/api/v1/lanes/${a.id}/schedule`, { priority: 1 }), id(a.id))).status).toBe(409);
    });
  });
});
