import { describe, expect, it } from "vitest";
import type { LaneView } from "./api";
import { attentionOf, exitSummaryOf, sortAttention, statusOf } from "./lane-attention";
import { laneViewFixture as lane } from "./lane-view.testing";
import type { WorkerView } from "./worker-state";

const worker = (state: WorkerView["state"]): WorkerView => ({
  id: "W1", laneId: "L1", engine: "claude", state, stateVersion: 1, attempt: 1, processId: "P1", sessionId: null,
  promptDeliveries: 0, usage: null, lastError: null, readyAt: null, createdAt: "2026-11-20T12:00:00.000Z", endedAt: null,
});
const summary = (over: Partial<NonNullable<LaneView["summary"]>>): NonNullable<LaneView["summary"]> => ({
  laneId: "L1", phase: "working", phaseDetail: null, lastCheckpoint: null, blocker: null, nextAction: { action: "wait", label: "wait for the worker to finish" }, eventId: 5, ...over,
});
const red = { level: "targeted" as const, status: "red" as const, command: ["npm", "test"], exitCode: 1, durationMs: 10, at: "2026-11-20T12:01:00.000Z" };

describe("attentionOf", () => {
  it("asks for Trust when the worker waits at the trust prompt, and the badge says so instead of running", () => {
    const l = lane({ worker: worker("trust_required") });
    expect(attentionOf(l)).toMatchObject({ kind: "trust", action: "trust" });
    expect(statusOf(l)).toBe("waiting_trust");
  });

  it("says a lane waiting for a prompt waits for one", () => {
    const l = lane({ worker: worker("ready_for_prompt") });
    expect(attentionOf(l)).toMatchObject({ kind: "prompt", action: "open" });
    expect(statusOf(l)).toBe("waiting_prompt");
  });

  it("offers Restart for a red lane, naming the red check", () => {
    const a = attentionOf(lane({ state: "failed", lastExitCode: 0, checks: { targeted: red } }));
    expect(a).toMatchObject({ kind: "red", action: "restart" });
    expect(a?.reason).toContain("targeted check red (exit 1)");
  });

  it("offers Merge only when merge readiness says ready", () => {
    expect(attentionOf(lane({ state: "finished", mergeReady: true }))).toMatchObject({ kind: "merge_ready", action: "merge" });
    expect(attentionOf(lane({ state: "finished", mergeReady: false }))).toBeNull();
    expect(attentionOf(lane({ state: "finished", mergeReady: true, merged: true }))).toBeNull();
  });

  it("flags escalations, misdelivered prompts and budgets", () => {
    expect(attentionOf(lane({ state: "failed", blocked: { reason: "recovery gave up", failureClass: "test", eventId: 9, at: "2026-11-20T12:02:00.000Z" } }))?.kind).toBe("blocked");
    expect(attentionOf(lane({ summary: summary({ blocker: { failureClass: "prompt_delivery", reason: "landed in shell", eventId: 7, at: "x" } }) }))?.kind).toBe("misdelivered");
    expect(attentionOf(lane({ state: "queued", waitingFor: { kind: "budget", scope: "lane", key: "L1" } as LaneView["waitingFor"] }))?.kind).toBe("over_budget");
  });

  it("asks nothing of a person for a running or queued lane", () => {
    expect(attentionOf(lane())).toBeNull();
    expect(attentionOf(lane({ state: "queued" }))).toBeNull();
  });

  it("sorts newest first", () => {
    const items = [
      { id: "old", attention: attentionOf(lane({ state: "failed", lastEvent: { id: 1, type: "lane.failed", at: "2026-11-20T10:00:00.000Z" } }))! },
      { id: "new", attention: attentionOf(lane({ state: "failed", lastEvent: { id: 2, type: "lane.failed", at: "2026-11-20T11:00:00.000Z" } }))! },
    ];
    expect(sortAttention(items).map((i) => i.id)).toEqual(["new", "old"]);
  });
});

describe("exitSummaryOf", () => {
  it("does not show a green exit 0 for a lane that failed on its check: it names the check", () => {
    const parts = exitSummaryOf(lane({ state: "failed", lastExitCode: 0, checks: { targeted: red } }));
    expect(parts).toEqual([
      { who: "worker", code: 0, tone: "neutral" },
      { who: "targeted check", code: 1, tone: "bad" },
    ]);
  });

  it("shows a finished lane's worker exit 0 as ok", () => {
    expect(exitSummaryOf(lane({ state: "finished", lastExitCode: 0 }))).toEqual([{ who: "worker", code: 0, tone: "ok" }]);
  });
});
