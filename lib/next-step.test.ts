import { describe, expect, it } from "vitest";
import { NEXT_ACTIONS, type LaneSummary } from "./lane-summary";
import { nextStep } from "./next-step";

const summary = (action: LaneSummary["nextAction"]["action"], label = "wait for the worker to finish"): LaneSummary => ({
  laneId: "L",
  phase: "finished",
  phaseDetail: null,
  lastCheckpoint: null,
  blocker: null,
  nextAction: { action, label },
  stalled: null,
  eventId: 1,
});
const lane = (action: LaneSummary["nextAction"]["action"], extra: Partial<Parameters<typeof nextStep>[0]> = {}) =>
  nextStep({ summary: summary(action), mergeReady: null, merged: false, behind: 0, baseBranch: "main", state: "finished", ...extra });

describe("nextStep", () => {
  it("says every next action as an action on the page, never as an API path", () => {
    for (const action of NEXT_ACTIONS) {
      const step = lane(action);
      expect(step.text, action).not.toMatch(/\/api\/|POST|GET|\(`/);
      expect(step.text, action).toMatch(/^[A-Z]/);
    }
  });

  it("never advises merging while merge readiness says no; merged lanes have nothing left", () => {
    expect(lane("review_and_merge", { mergeReady: true })).toEqual({ kind: "merge", text: "Review the diff and merge" });
    expect(lane("review_and_merge", { mergeReady: false }).kind).toBe("open_diff");
    expect(lane("review_and_merge", { mergeReady: false }).text).not.toMatch(/^Review the diff and merge/);
    expect(lane("review_and_merge", { merged: true })).toEqual({ kind: "none", text: "Merged: nothing left to do" });
  });

  it("points gates and prompts at their buttons", () => {
    expect(lane("resolve_trust").kind).toBe("trust");
    expect(lane("send_prompt").kind).toBe("prompt");
    expect(lane("merge_forward", { behind: 3 }).text).toContain("(3 behind)");
  });
});
