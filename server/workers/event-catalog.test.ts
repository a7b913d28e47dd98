/**
 * The lane event catalog (lib/lane-events.ts) against the domain vocabulary
 * (docs/domain.md, "Lane events"): every named event exists, failures carry a class from
 * the taxonomy, the union parses what the workers emit and rejects what it does not know.
 */
import { describe, expect, it } from "vitest";
import { LANE_EVENT_TYPES, LANE_EVENT_VERSION, LaneEventSchema } from "@/lib/lane-events";

const DOMAIN_EVENTS = [
  "lane.started",
  "lane.ready",
  "lane.prompt_misdelivery",
  "lane.blocked",
  "lane.red",
  "lane.green",
  "lane.commit.created",
  "lane.pr.opened",
  "lane.merge.ready",
  "lane.finished",
  "lane.failed",
  "branch.stale_against_main",
  "branch.workspace_mismatch",
  "lane.recovery.attempted",
  "lane.escalated",
  "trust_required",
  "trust_resolved",
];

const envelope = (type: string, payload: unknown) => ({ id: 1, v: LANE_EVENT_VERSION, laneId: "L", repoId: null, at: "2026-01-01T00:00:00.000Z", type, payload });

describe("lane event catalog", () => {
  it("has every event the domain names, and the worker events", () => {
    expect(LANE_EVENT_TYPES).toEqual(expect.arrayContaining([...DOMAIN_EVENTS, "worker.state_changed", "worker.activity", "worker.usage", "lane.phantom_completion"]));
  });

  it("failure events need a class from the taxonomy", () => {
    expect(LaneEventSchema.safeParse(envelope("lane.failed", { exitCode: 1, signal: null, reason: "x", failureClass: "workspace_mismatch" })).success).toBe(true);
    expect(LaneEventSchema.safeParse(envelope("lane.failed", { exitCode: 1, signal: null, reason: "x", failureClass: "bad_luck" })).success).toBe(false);
    expect(LaneEventSchema.safeParse(envelope("lane.failed", { exitCode: 1, signal: null, reason: "x" })).success).toBe(false);
    expect(LaneEventSchema.safeParse(envelope("warning", { failureClass: "tool_runtime", message: "not JSON" })).success).toBe(true);
  });

  it("parses the worker events as emitted, rejects unknown types and malformed payloads", () => {
    const ok = [
      envelope("worker.state_changed", { workerId: "W", from: "spawning", to: "ready_for_prompt", trigger: "ready" }),
      envelope("worker.activity", { workerId: "W", kind: "tool_use", name: "Edit", detail: "a.ts", skipped: 2 }),
      envelope("worker.usage", { workerId: "W", inputTokens: 10, outputTokens: 1, costUsd: null }),
      envelope("branch.workspace_mismatch", { expected: "/wt", actual: "/etc/passwd", workerId: "W", source: "tool:Read" }),
      envelope("lane.phantom_completion", { workerId: "W", baseSha: "a", head: "a" }),
    ];
    for (const e of ok) expect(LaneEventSchema.safeParse(e).success).toBe(true);
    expect(LaneEventSchema.safeParse(envelope("worker.exploded", {})).success).toBe(false);
    expect(LaneEventSchema.safeParse(envelope("worker.state_changed", { workerId: "W", from: null, to: "dancing" })).success).toBe(false);
    expect(LaneEventSchema.safeParse(envelope("worker.activity", { workerId: "W", kind: "chatter", detail: "" })).success).toBe(false);
    expect(LaneEventSchema.safeParse({ ...envelope("lane.ready", { workerId: "W" }), v: 99 }).success).toBe(false);
  });
});
