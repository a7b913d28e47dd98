/**
 * The worker state machine on a real SQLite file: every edge of the table (one test each),
 * every forbidden (state, event) pair, guarded persistence against a stale writer, and the
 * emitted events.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { WORKER_STATES, type WorkerState } from "@/lib/lane-state";
import type { EventLog } from "../events/event-log";
import type { Db } from "../store/db";
import { eventStorePerFile } from "../testing/event-store";
import {
  TERMINAL_WORKER_STATES,
  WORKER_EVENTS,
  WORKER_TRANSITIONS,
  applyWorkerEvent,
  createWorker,
  nextWorkerState,
  transitionWorker,
  type WorkerEvent,
} from "./worker-state-machine";

const store = eventStorePerFile("laneboard-wsm-");
const { published } = store;
let db: Db;
let events: EventLog;
let laneId: string;

beforeAll(async () => {
  ({ db, events } = store);
  const lane = await db.lane.create({
    data: { repoId: store.repoId, slug: "s", objective: "o", branch: "lane/s", baseBranch: "main", worktreePath: store.dir, engine: "claude", packet: "{}", state: "running" },
  });
  laneId = lane.id;
});

const deps = () => ({ db, events });
const workerIn = (state: WorkerState) => db.worker.create({ data: { laneId, engine: "claude", state, attempt: 1, stateVersion: 3 } });

const EDGES = WORKER_STATES.flatMap((from) => Object.entries(WORKER_TRANSITIONS[from]).map(([event, to]) => ({ from, event: event as WorkerEvent, to: to! })));
const FORBIDDEN = WORKER_STATES.flatMap((from) => WORKER_EVENTS.filter((event) => !WORKER_TRANSITIONS[from][event]).map((event) => ({ from, event })));

describe("worker state machine", () => {
  it("has the domain's states, terminal states without exits, and the edges the lifecycle needs", () => {
    expect(Object.keys(WORKER_TRANSITIONS).sort()).toEqual([...WORKER_STATES].sort());
    for (const s of TERMINAL_WORKER_STATES) expect(WORKER_TRANSITIONS[s]).toEqual({});
    // The prompt guard: only ready_for_prompt accepts a prompt.
    expect(EDGES.filter((e) => e.event === "prompt_sent")).toEqual([{ from: "ready_for_prompt", event: "prompt_sent", to: "prompt_accepted" }]);
    // Every live state can fail, be killed and be lost.
    for (const s of WORKER_STATES.filter((x) => !TERMINAL_WORKER_STATES.has(x))) {
      expect([nextWorkerState(s, "fail"), nextWorkerState(s, "kill"), nextWorkerState(s, "lose")]).toEqual(["failed", "killed", "lost"]);
    }
    expect(EDGES.length).toBe(39); // the diagram in docs/workers.md draws each of them
  });

  it.each(EDGES)("$from --$event--> $to: persisted with a version bump and a worker.state_changed event", async ({ from, event, to }) => {
    const w = await workerIn(from);
    const before = published.length;
    const row = await transitionWorker(deps(), w, event, { data: { sessionId: "s-1" } });
    expect(row).toMatchObject({ id: w.id, state: to, stateVersion: 4, sessionId: "s-1" });
    expect(row!.endedAt === null).toBe(!TERMINAL_WORKER_STATES.has(to));
    // The row answered is the row as written (one UPDATE … RETURNING, not a later read).
    expect(row).toEqual(await db.worker.findUnique({ where: { id: w.id } }));
    expect(published.slice(before)).toEqual([expect.objectContaining({ type: "worker.state_changed", laneId, payload: { workerId: w.id, from, to, trigger: event } })]);
  });

  it.each(FORBIDDEN)("$from --$event--> (forbidden): conflict, row and log unchanged", async ({ from, event }) => {
    const w = await workerIn(from);
    const before = published.length;
    await expect(transitionWorker(deps(), w, event)).rejects.toMatchObject({ code: "conflict" });
    expect(await db.worker.findUnique({ where: { id: w.id } })).toMatchObject({ state: from, stateVersion: 3 });
    expect(published.length).toBe(before);
  });

  it("a stale writer loses: two writers that read the same row, only the first transition lands", async () => {
    const w = await workerIn("ready_for_prompt");
    const [a, b] = await Promise.all([transitionWorker(deps(), w, "prompt_sent"), transitionWorker(deps(), w, "prompt_sent")]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    // A writer holding the old version cannot move the worker on, even along an allowed edge.
    expect(await transitionWorker(deps(), w, "blocked")).toBeNull();
    expect(await db.worker.findUnique({ where: { id: w.id } })).toMatchObject({ state: "prompt_accepted", stateVersion: 4 });
    expect(published.filter((e) => e.type === "worker.state_changed" && e.payload.workerId === w.id)).toHaveLength(1);
  });

  it("applyWorkerEvent re-reads after losing and gives up when the event is no longer allowed", async () => {
    const w = await workerIn("running");
    await transitionWorker(deps(), w, "blocked");
    expect(await applyWorkerEvent(deps(), w.id, "resumed")).toMatchObject({ state: "running", stateVersion: 5 });
    await applyWorkerEvent(deps(), w.id, "kill");
    expect(await applyWorkerEvent(deps(), w.id, "finish")).toBeNull();
    expect(await applyWorkerEvent(deps(), "no-such-worker", "fail")).toBeNull();
  });

  it("createWorker starts in spawning and says so", async () => {
    const before = published.length;
    const w = await createWorker(deps(), { laneId, repoId: null, engine: "codex", attempt: 2, prompt: "do it" });
    expect(w).toMatchObject({ state: "spawning", stateVersion: 0, prompt: "do it", promptDeliveries: 0 });
    expect(published.slice(before).map((e) => e.payload)).toEqual([{ workerId: w.id, from: null, to: "spawning", trigger: "spawn" }]);
  });
});
