/**
 * The session control API through its real route handlers, against a real runtime. Interactive
 * flows use a line session: a real shell worker reading prompts from its stdin FIFO, attached
 * through the same hook the interactive engine uses (`runtime.workers.attachSession`/`signal`).
 */
import { describe, expect, it } from "vitest";
import { isTerminal, runtimePerFile, shellPacket, waitForLane, waitForOutput } from "@/server/testing/runtime-harness";
import { apiRequest } from "@/server/testing/auth";
import { laneEvents, payloads, waitForEvent } from "@/server/workers/worker.testing";
import * as summary from "../summary/route";
import * as error from "./error/route";
import * as prompt from "./prompt/route";
import * as ready from "./ready/route";
import * as worker from "./route";
import * as trust from "./trust/route";

const h = runtimePerFile({ workerCap: 3 }, { global: true });

const id = (laneId: string) => ({ params: Promise.resolve({ id: laneId }) });
const req = (method: string, url: string, body?: unknown) => apiRequest(method, url, body);
const READER = ["sh", "-c", 'while read l; do echo "got:$l"; done'];

/** Response bodies as the tests read them (shapes are checked with toMatchObject). */
type Body = { error: { code: string; message: string }; worker: { state: string }; laneState: string; [key: string]: unknown };

async function json(res: Response, status: number): Promise<Body> {
  const body = (await res.json()) as Body;
  expect({ status: res.status, body }).toMatchObject({ status });
  return body;
}

/** A running shell lane reading lines, with a line session attached; returns the lane and a count of trust answers. */
async function interactiveLane() {
  const lane = await h.rt.lanes.create(shellPacket(h.repoId, READER));
  const running = await waitForLane(h.rt, lane.id, (l) => l.state === "running" && l.worker?.state === "running");
  const processId = running.currentProcessId!;
  const trusted = { count: 0 };
  h.rt.workers.attachSession(running.worker!.id, {
    deliverPrompt: (text) => h.rt.supervisor.writeStdin(processId, `${text}\n`),
    resolveTrust: async () => void trusted.count++,
  });
  return { lane: running, workerId: running.worker!.id, trusted };
}

describe("session control API", () => {
  it("POST /api/v1/lanes/:id/worker/prompt – a lane whose worker took its prompt at start and is working: not_ready", async () => {
    const busy = await h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "60"]));
    await waitForLane(h.rt, busy.id, (l) => l.worker?.state === "running");
    const res = await prompt.POST(req("POST", `/api/v1/lanes/${busy.id}/worker/prompt`, { text: "hi" }), id(busy.id));
    expect((await json(res, 409)).error).toMatchObject({ code: "not_ready" });
    expect((await h.rt.workers.state(busy.id)).worker).toMatchObject({ state: "running", promptDeliveries: 0 });
    await json(await worker.DELETE(req("DELETE", `/api/v1/lanes/${busy.id}/worker`, { graceMs: 200 }), id(busy.id)), 200);
  });

  it("GET /api/v1/lanes/:id/worker/ready – ready means a prompt sent now is accepted: a headless worker at ready_for_prompt is not ready", async () => {
    // A headless worker (no interactive session) whose engine reports a finished turn: its state
    // is ready_for_prompt, but a prompt cannot be typed into it.
    const headless = await h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "60"]));
    const running = await waitForLane(h.rt, headless.id, (l) => l.worker?.state === "running");
    await h.rt.workers.signal(running.worker!.id, { kind: "ready_for_prompt" });
    const r = await json(await ready.GET(req("GET", "/x?timeoutMs=1000"), id(headless.id)), 200);
    expect(r).toMatchObject({ settled: true, ready: false, worker: { state: "ready_for_prompt", acceptsPrompt: false, promptMode: null } });
    expect((await json(await prompt.POST(req("POST", "/x", { text: "hi" }), id(headless.id)), 409)).error.code).toBe("not_ready");
    expect((await h.rt.lanes.get(headless.id)).worker).toMatchObject({ acceptsPrompt: false, promptMode: null });
    await h.rt.workers.terminate(headless.id, { graceMs: 200 });
  });

  it("POST /api/v1/lanes/:id/worker/prompt – invalid body and unknown lane", async () => {
    expect((await json(await prompt.POST(req("POST", "/x", { text: "" }), id("nope")), 422)).error.code).toBe("invalid_input");
    expect((await json(await prompt.POST(req("POST", "/x", "{nope"), id("nope")), 400)).error.code).toBe("bad_request");
    expect((await json(await prompt.POST(req("POST", "/x", { text: "hi" }), id("nope")), 404)).error.code).toBe("not_found");
    expect((await json(await summary.GET(req("GET", "/x"), id("nope")), 404)).error.code).toBe("not_found");
  });

  it("ready handshake, one prompt delivered, a second prompt while it is being accepted is a conflict", async () => {
    const { lane, workerId } = await interactiveLane();
    await h.rt.workers.signal(workerId, { kind: "ready_for_prompt" });
    const r = await json(await ready.GET(req("GET", `/api/v1/lanes/${lane.id}/worker/ready?timeoutMs=1000`), id(lane.id)), 200);
    expect(r).toMatchObject({ ready: true, settled: true, timedOut: false, worker: { state: "ready_for_prompt", acceptsPrompt: true, promptMode: "delivered" } });
    expect((await h.rt.lanes.get(lane.id)).worker).toMatchObject({ acceptsPrompt: true, promptMode: "delivered" });
    const [a, b] = await Promise.all(["first", "second"].map((text) => prompt.POST(req("POST", "/x", { text }), id(lane.id))));
    const statuses = [a!.status, b!.status].sort();
    expect(statuses).toEqual([200, 409]);
    const winner = (await (a!.status === 200 ? a! : b!).json()) as Body;
    const loser = (await (a!.status === 200 ? b! : a!).json()) as Body;
    expect(winner).toMatchObject({ mode: "delivered", worker: { state: "prompt_accepted", promptDeliveries: 1 } });
    expect(loser.error.code).toBe("conflict");
    await waitForOutput(h.rt, lane.id, `got:${a!.status === 200 ? "first" : "second"}`); // typed into the real process
    // Still accepting: a third prompt is a conflict too, and nothing changed.
    expect((await json(await prompt.POST(req("POST", "/x", { text: "third" }), id(lane.id)), 409)).error.code).toBe("conflict");
    await h.rt.workers.signal(workerId, { kind: "working" });
    expect((await h.rt.workers.state(lane.id)).worker).toMatchObject({ state: "running", promptDeliveries: 1 });
    const events = await laneEvents(h.rt, lane.id);
    expect(events.filter((e) => e.type === "worker.state_changed" && e.payload.to === "prompt_accepted")).toHaveLength(1);
    await h.rt.workers.terminate(lane.id, { graceMs: 200 });
  });

  it("misdelivery: replayed once at the next ready, a second misdelivery fails the lane (prompt_delivery)", async () => {
    const { lane, workerId } = await interactiveLane();
    await h.rt.workers.signal(workerId, { kind: "ready_for_prompt" });
    await json(await prompt.POST(req("POST", "/x", { text: "task-1" }), id(lane.id)), 200);
    await waitForOutput(h.rt, lane.id, "got:task-1");
    expect(await h.rt.workers.signal(workerId, { kind: "prompt_misdelivery", evidence: "sh: task-1: not found" })).toMatchObject({ state: "spawning" });
    const replayed = await h.rt.workers.signal(workerId, { kind: "ready_for_prompt" });
    expect(replayed).toMatchObject({ state: "prompt_accepted", promptDeliveries: 2 });
    const events = await laneEvents(h.rt, lane.id);
    expect(payloads(events, "lane.prompt_misdelivery")).toEqual([{ workerId, evidence: "sh: task-1: not found" }]);
    expect(payloads(events, "lane.recovery.attempted")).toEqual([{ recipe: "replay-prompt", failureClass: "prompt_delivery" }]);
    await h.rt.workers.signal(workerId, { kind: "prompt_misdelivery", evidence: "again" });
    const done = await waitForLane(h.rt, lane.id, isTerminal);
    expect(done).toMatchObject({ state: "failed", worker: { state: "failed", lastError: { failureClass: "prompt_delivery" } } });
    const err = await json(await error.GET(req("GET", "/x"), id(lane.id)), 200);
    expect(err.error).toMatchObject({ failureClass: "prompt_delivery", eventType: "lane.failed" });
  });

  it("a session that replays a misdelivered prompt itself: the service records it and does not type it again", async () => {
    const { lane, workerId } = await interactiveLane();
    await h.rt.workers.signal(workerId, { kind: "ready_for_prompt" });
    await json(await prompt.POST(req("POST", "/x", { text: "task-2" }), id(lane.id)), 200);
    await h.rt.workers.signal(workerId, { kind: "prompt_misdelivery", evidence: "bash: task-2: command not found", replaying: true });
    expect(await h.rt.workers.signal(workerId, { kind: "ready_for_prompt" })).toMatchObject({ state: "ready_for_prompt", promptDeliveries: 1 });
    expect(await h.rt.workers.signal(workerId, { kind: "prompt_sent", attempt: 2 })).toMatchObject({ state: "prompt_accepted", promptDeliveries: 2 });
    expect(await h.rt.workers.signal(workerId, { kind: "working" })).toMatchObject({ state: "running" });
    expect(payloads(await laneEvents(h.rt, lane.id), "lane.recovery.attempted")).toHaveLength(1);
    await h.rt.workers.signal(workerId, { kind: "prompt_misdelivery", evidence: "still a shell" });
    expect(await waitForLane(h.rt, lane.id, isTerminal)).toMatchObject({ state: "failed", worker: { lastError: { failureClass: "prompt_delivery" } } });
  });

  it("trust gate and a blocking dialog: resolved through POST /worker/trust", async () => {
    const { lane, workerId, trusted } = await interactiveLane();
    await h.rt.workers.signal(workerId, { kind: "blocked", text: "Do you want to use this API key?" });
    expect((await h.rt.summaries.get(lane.id))).toMatchObject({ phase: "blocked", nextAction: { action: "answer_dialog" } });
    await h.rt.workers.signal(workerId, { kind: "trust_required", path: lane.worktreePath });
    const s = await json(await summary.GET(req("GET", "/x"), id(lane.id)), 200);
    expect(s).toMatchObject({ phase: "awaiting_trust", blocker: { failureClass: "trust_gate" }, nextAction: { action: "resolve_trust" } });
    const resolved = await json(await trust.POST(req("POST", "/x", { by: "claw-7" }), id(lane.id)), 200);
    expect(resolved.worker.state).toBe("spawning");
    expect(trusted.count).toBe(1);
    expect(payloads(await laneEvents(h.rt, lane.id), "trust_resolved")).toEqual([{ workerId, by: "claw-7" }]);
    expect((await json(await trust.POST(req("POST", "/x"), id(lane.id)), 409)).error.code).toBe("conflict");
    await h.rt.workers.terminate(lane.id, { graceMs: 200 });
  });

  it("GET /ready long-polls a queued lane until its timeout (a prompt to it is not_ready), then answers once it runs", async () => {
    const blockers = await Promise.all([1, 2, 3].map(() => h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "60"]))));
    const queued = await h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "60"]));
    const t0 = Date.now();
    const r = await json(await ready.GET(req("GET", "/x?timeoutMs=300"), id(queued.id)), 200);
    expect(r).toMatchObject({ laneState: "queued", ready: false, settled: false, timedOut: true, worker: null });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    const early = await prompt.POST(req("POST", "/x", { text: "too early" }), id(queued.id));
    expect((await json(early, 409)).error).toMatchObject({ code: "not_ready", message: expect.stringContaining("queued") });
    const waiting = ready.GET(req("GET", "/x?timeoutMs=20000"), id(queued.id));
    await h.rt.workers.terminate(blockers[0]!.id, { graceMs: 200 });
    const settled = await json(await waiting, 200);
    expect(settled).toMatchObject({ laneState: "running", settled: true, timedOut: false, worker: { state: "running" } });
    for (const l of [...blockers.slice(1), queued]) await h.rt.workers.terminate(l.id, { graceMs: 200 });
    expect((await json(await ready.GET(req("GET", "/x?timeoutMs=999999"), id(queued.id)), 422)).error.code).toBe("invalid_input");
  });

  it("GET /api/v1/lanes/:id/worker/error – errors carry their attempt; a later success clears the last error", async () => {
    // Attempts 1 and 2 print and exit 1 (not a startup crash: recovery leaves them), attempt 3 exits 0.
    const counter = `${h.dataDir}/attempts-${Date.now()}`;
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["sh", "-c", 'n=$(($(cat "$0" 2>/dev/null || echo 0) + 1)); echo $n > "$0"; echo "attempt $n"; [ $n -ge 3 ]', counter]));
    // Failed once its lane.failed is in (the summary's blocker is that event).
    const failed = (attempt: number, after = 0) => waitForLane(h.rt, lane.id, (l) => l.state === "failed" && l.attempt === attempt && (l.summary?.blocker?.eventId ?? 0) > after);
    const first = await failed(1);
    expect(await json(await error.GET(req("GET", "/x"), id(lane.id)), 200)).toMatchObject({ laneAttempt: 1, error: { attempt: 1, eventType: "lane.failed", failureClass: "tool_runtime", eventId: first.summary!.blocker!.eventId } });
    await h.rt.lanes.restart(lane.id, { by: "claw" });
    const second = await failed(2, first.summary!.blocker!.eventId);
    expect(await json(await error.GET(req("GET", "/x"), id(lane.id)), 200)).toMatchObject({ laneAttempt: 2, error: { attempt: 2, eventType: "lane.failed", eventId: second.summary!.blocker!.eventId } });
    await h.rt.lanes.restart(lane.id, { by: "claw" });
    const green = await waitForLane(h.rt, lane.id, (l) => l.state === "finished" && l.attempt === 3);
    await waitForEvent(h.rt, lane.id, "lane.finished");
    expect(green.worker).toMatchObject({ attempt: 3, lastError: null });
    expect(await json(await error.GET(req("GET", "/x"), id(lane.id)), 200)).toEqual({ laneId: lane.id, laneAttempt: 3, error: null });
  });

  it("create, state, last error, follow-up and terminate on ended and live lanes", async () => {
    // (A succeeding worker: a failed one may be restarted at once by automatic recovery.)
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    const ended = await waitForLane(h.rt, lane.id, isTerminal);
    expect(ended.state).toBe("finished");
    expect(await json(await error.GET(req("GET", "/x"), id(lane.id)), 200)).toEqual({ laneId: lane.id, laneAttempt: 1, error: null });
    const state = await json(await worker.GET(req("GET", "/x"), id(lane.id)), 200);
    expect(state).toMatchObject({ laneState: "finished", worker: { state: "finished", attempt: 1 }, summary: { phase: "finished" } });
    // A follow-up needs an agent session: the shell engine has none, and its view says so.
    expect(state).toMatchObject({ worker: { acceptsPrompt: false, promptMode: null } });
    expect(await json(await ready.GET(req("GET", "/x?timeoutMs=0"), id(lane.id)), 200)).toMatchObject({ ready: false, settled: true });
    expect((await json(await prompt.POST(req("POST", "/x", { text: "again" }), id(lane.id)), 422)).error.code).toBe("not_supported");
    // Create a worker for the ended lane: a new attempt.
    const created = await json(await worker.POST(req("POST", "/x", { by: "claw" }), id(lane.id)), 202);
    expect(["queued", "starting", "running", "finished"]).toContain(created.laneState);
    await waitForEvent(h.rt, lane.id, "lane.restarted", (p) => p.by === "claw");
    const second = await waitForLane(h.rt, lane.id, (l) => isTerminal(l) && l.attempt === 2);
    expect(second.worker).toMatchObject({ attempt: 2 });
    // A live lane already has a worker; terminate it.
    const live = await h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "60"]));
    await waitForLane(h.rt, live.id, (l) => l.state === "running");
    expect((await json(await worker.POST(req("POST", "/x"), id(live.id)), 409)).error.code).toBe("conflict");
    const killed = await json(await worker.DELETE(req("DELETE", "/x", { graceMs: 200 }), id(live.id)), 200);
    expect(killed).toMatchObject({ laneState: "killed", worker: { state: "killed" }, summary: { phase: "killed", nextAction: { action: "restart_worker" } } });
    expect((await json(await worker.DELETE(req("DELETE", "/x"), id(live.id)), 409)).error.code).toBe("not_running");
  });
});
