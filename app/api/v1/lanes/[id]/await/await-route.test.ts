/**
 * GET /api/v1/lanes/:id/await through its real route handler against a real runtime: each wait
 * ends on the lane's own events (a worker reading its stdin is the test's lever), never on a poll.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwaitLaneResponse } from "@/lib/lane-await";
import { setRuntime } from "@/server/runtime-global";
import { apiRequest, issueTestToken } from "@/server/testing/auth";
import { shellPacket, startTestRuntime, waitForLane, waitForOutput, type TestRuntime } from "@/server/testing/runtime-harness";
import * as awaitRoute from "./route";

let h: TestRuntime;
beforeAll(async () => {
  h = await startTestRuntime({ workerCap: 4, stallAfterMs: 600 });
  setRuntime(h.rt);
});
afterAll(async () => {
  setRuntime(undefined);
  await h.close();
});

const id = (laneId: string) => ({ params: Promise.resolve({ id: laneId }) });
const get = (laneId: string, query: string, headers: Record<string, string> = {}) => awaitRoute.GET(apiRequest("GET", `/api/v1/lanes/${laneId}/await?${query}`, undefined, headers), id(laneId));
async function answer(res: Response): Promise<AwaitLaneResponse> {
  expect(res.status).toBe(200);
  return (await res.json()) as AwaitLaneResponse;
}
const READER = ["sh", "-c", 'echo up; read l; echo "got:$l"; exit 0'];

describe("GET /api/v1/lanes/:id/await", () => {
  it("GET /api/v1/lanes/:id/await?state=finished – answers when the lane finished, with its closing event already in the summary", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, READER));
    await waitForOutput(h.rt, lane.id, "up");
    const pending = get(lane.id, "state=finished,failed&timeout=30");
    const running = await waitForLane(h.rt, lane.id, (l) => l.state === "running");
    await h.rt.supervisor.writeStdin(running.currentProcessId!, "go\n");
    const r = await answer(await pending);
    expect(r).toMatchObject({ laneId: lane.id, outcome: "reached", matched: ["finished"], lane: { state: "finished", summary: { phase: "finished", lastCheckpoint: { kind: "finished" } } } });
  });

  it("GET /api/v1/lanes/:id/await?state=ready_for_prompt – an interactive worker: answers when a prompt would be accepted", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, READER));
    const running = await waitForLane(h.rt, lane.id, (l) => l.worker?.state === "running");
    h.rt.workers.attachSession(running.worker!.id, { deliverPrompt: async () => undefined, resolveTrust: async () => undefined });
    const pending = get(lane.id, "state=ready_for_prompt&timeoutMs=30000");
    await h.rt.workers.signal(running.worker!.id, { kind: "ready_for_prompt" });
    const r = await answer(await pending);
    expect(r).toMatchObject({ outcome: "reached", matched: ["ready_for_prompt"], lane: { worker: { state: "ready_for_prompt", acceptsPrompt: true, promptMode: "delivered" } } });
    await h.rt.lanes.kill(lane.id, { graceMs: 200 });
  });

  it("GET /api/v1/lanes/:id/await – a timeout is an answer (outcome timeout), a lane that ended elsewhere answers at once (outcome ended)", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "60"]));
    await waitForLane(h.rt, lane.id, (l) => l.state === "running");
    const t0 = Date.now();
    const late = await answer(await get(lane.id, "state=finished&timeout=0.3"));
    expect(late).toMatchObject({ outcome: "timeout", matched: [], lane: { state: "running" } });
    expect(late.waitedMs).toBeGreaterThanOrEqual(290);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    await h.rt.lanes.kill(lane.id, { graceMs: 200 });
    const ended = await answer(await get(lane.id, "state=running,finished&timeout=60"));
    expect(ended).toMatchObject({ outcome: "ended", matched: [], lane: { state: "killed" } });
    expect(await answer(await get(lane.id, "state=ended&timeout=0"))).toMatchObject({ outcome: "reached", matched: ["ended"] });
    expect(await answer(await get(lane.id, "state=killed,ended"))).toMatchObject({ outcome: "reached", matched: ["killed", "ended"] });
  });

  it("GET /api/v1/lanes/:id/await?state=stalled – answers when the lane has been silent for the stall threshold", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, READER));
    await waitForOutput(h.rt, lane.id, "up");
    const r = await answer(await get(lane.id, "state=stalled,ended&timeout=30"));
    expect(r).toMatchObject({ outcome: "reached", matched: ["stalled"], lane: { state: "running", summary: { stalled: { idleMs: expect.any(Number) }, nextAction: { action: "inspect_stall" } } } });
    await h.rt.lanes.kill(lane.id, { graceMs: 200 });
  });

  it("GET /api/v1/lanes/:id/await – bad input: unknown state, no state, both timeouts, too long a timeout, unknown lane", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    const err = async (res: Response, status: number) => {
      expect(res.status).toBe(status);
      return ((await res.json()) as { error: { code: string; message: string } }).error;
    };
    expect(await err(await get(lane.id, "state=done"), 422)).toMatchObject({ code: "invalid_input", message: expect.stringMatching(/^state\.0: /) });
    expect(await err(await get(lane.id, ""), 422)).toMatchObject({ code: "invalid_input", message: expect.stringMatching(/^state: /) });
    expect(await err(await get(lane.id, "state=,"), 422)).toMatchObject({ message: expect.stringMatching(/name at least one state/) });
    expect(await err(await get(lane.id, "state=finished&timeout=1&timeoutMs=1000"), 422)).toMatchObject({ message: expect.stringMatching(/^timeout: give timeout/) });
    expect(await err(await get(lane.id, "state=finished&timeout=500"), 422)).toMatchObject({ message: expect.stringMatching(/^timeout: /) });
    expect(await err(await get(lane.id, "state=finished&timeoutMs=-1"), 422)).toMatchObject({ message: expect.stringMatching(/^timeoutMs: /) });
    expect(await err(await get("nope", "state=finished&timeout=0"), 404)).toMatchObject({ code: "not_found" });
  });

  it("GET /api/v1/lanes/:id/await – a read-only token may wait; without a token it is 401", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    const reader = issueTestToken(h.rt, "reader", ["read"]);
    expect(await answer(await get(lane.id, "state=ended&timeout=30", { authorization: `Bearer ${reader}` }))).toMatchObject({ outcome: "reached", matched: ["ended"] });
    const anonymous = await get(lane.id, "state=ended&timeout=0", { authorization: "" });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: "unauthorized" } });
  });
});
