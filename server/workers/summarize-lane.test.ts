import { describe, expect, it } from "vitest";
import { LaneSummarySchema } from "@/lib/lane-summary";
import type { LaneEvent, NewLaneEvent } from "@/lib/lane-events";
import { LaneEventSchema } from "@/lib/lane-events";
import { initialSummary, reduceSummary, renderSummary, type SummaryState } from "./summarize-lane";
import { ActivityThrottle, describeToolUse } from "./activity";

let id = 0;
/** A stored-looking event, validated against the catalog. */
const ev = (e: Omit<NewLaneEvent, "laneId">): LaneEvent =>
  LaneEventSchema.parse({ ...e, id: ++id, v: 1, laneId: "L", repoId: null, at: new Date(Date.UTC(2026, 0, 1, 0, 0, id)).toISOString() }) as LaneEvent;
const fold = (events: LaneEvent[], from: SummaryState = initialSummary("L")) => events.reduce(reduceSummary, from);
const lane = (from: string, to: string) => ev({ type: "lane.state_changed", payload: { from, to } } as never);
const worker = (from: string | null, to: string) => ev({ type: "worker.state_changed", payload: { workerId: "W", from, to } } as never);

const BOOT = () => [lane("queued", "starting"), worker(null, "spawning"), lane("starting", "running"), ev({ type: "lane.started", payload: { workerId: "W", processId: "P", pid: 1, attempt: 1 } })];

describe("lane summary", () => {
  it("a fresh lane: queued, no checkpoint, no blocker, wait", () => {
    const s = renderSummary(fold([ev({ type: "lane.queued", payload: { reason: "created", position: 1 } })]));
    expect(LaneSummarySchema.parse(s)).toMatchObject({ phase: "queued", lastCheckpoint: null, blocker: null, nextAction: { action: "wait" } });
  });

  it("working: the last tool is the detail, the ready handshake the checkpoint; noise does not change it", () => {
    const s = fold([
      ...BOOT(),
      worker("spawning", "ready_for_prompt"),
      ev({ type: "lane.ready", payload: { workerId: "W" } }),
      worker("ready_for_prompt", "prompt_accepted"),
      worker("prompt_accepted", "running"),
      ev({ type: "worker.activity", payload: { workerId: "W", kind: "tool_use", name: "Edit", detail: "src/a.ts" } }),
      ev({ type: "worker.usage", payload: { workerId: "W", inputTokens: 10, outputTokens: 2, costUsd: null } }),
    ]);
    expect(renderSummary(s)).toMatchObject({ phase: "working", phaseDetail: "Edit: src/a.ts", lastCheckpoint: { kind: "worker_ready" }, blocker: null, nextAction: { action: "wait" } });
  });

  it("a trust gate, then resolved: awaiting_trust → resolve_trust; afterwards ready → send_prompt", () => {
    const gated = fold([...BOOT(), worker("spawning", "trust_required"), ev({ type: "trust_required", payload: { workerId: "W", path: "/wt" } })]);
    expect(renderSummary(gated)).toMatchObject({ phase: "awaiting_trust", blocker: { failureClass: "trust_gate" }, nextAction: { action: "resolve_trust" } });
    const ready = fold([ev({ type: "trust_resolved", payload: { workerId: "W", by: "allowlist" } }), worker("trust_required", "spawning"), worker("spawning", "ready_for_prompt")], gated);
    expect(renderSummary(ready)).toMatchObject({ phase: "ready", blocker: null, lastCheckpoint: { kind: "trust_resolved", label: "trust resolved by allowlist" }, nextAction: { action: "send_prompt" } });
  });

  it("a blocked dialog names its text", () => {
    const s = fold([...BOOT(), worker("spawning", "blocked"), ev({ type: "lane.blocked", payload: { reason: "Do you want to use this API key?" } })]);
    expect(renderSummary(s)).toMatchObject({ phase: "blocked", phaseDetail: "Do you want to use this API key?", nextAction: { action: "answer_dialog" } });
  });

  it("commit, then a red check: failed, last checkpoint the commit, blocker the red check → fix_and_restart", () => {
    const s = fold([
      ...BOOT(),
      ev({ type: "lane.commit.created", payload: { sha: "abcdef1234567", subject: "fix login", branch: "lane/x" } }),
      lane("running", "checking"),
      ev({ type: "check.started", payload: { processId: "C", level: "targeted", command: ["npm", "test"] } }),
      ev({ type: "lane.red", payload: { level: "targeted", command: ["npm", "test"], exitCode: 1, durationMs: 5, failureClass: "test" } }),
      lane("checking", "failed"),
      ev({ type: "lane.failed", payload: { exitCode: 1, signal: null, failureClass: "test", reason: "check npm test is red" } }),
    ]);
    const r = renderSummary(s);
    expect(r).toMatchObject({ phase: "failed", lastCheckpoint: { kind: "commit", label: "commit abcdef1 fix login" }, blocker: { failureClass: "test", reason: "check npm test is red" }, nextAction: { action: "fix_and_restart" } });
    expect(r.phaseDetail).toBe("check npm test is red");
  });

  it("workspace mismatch → inspect_workspace; phantom completion → inspect_workspace (not a second agent run); stale branch → merge_forward", () => {
    const mismatch = fold([...BOOT(), ev({ type: "branch.workspace_mismatch", payload: { expected: "/wt", actual: "/etc/passwd", source: "tool:Read" } }), lane("running", "failed")]);
    expect(renderSummary(mismatch)).toMatchObject({ blocker: { failureClass: "workspace_mismatch" }, nextAction: { action: "inspect_workspace" } });
    const phantom = fold([...BOOT(), ev({ type: "lane.phantom_completion", payload: { workerId: "W", baseSha: "a", head: "a" } }), lane("running", "failed")]);
    expect(renderSummary(phantom)).toMatchObject({ blocker: { failureReason: "phantom_completion" }, nextAction: { action: "inspect_workspace" } });
    const stale = fold([...BOOT(), ev({ type: "branch.stale_against_main", payload: { ahead: 1, behind: 3, baseBranch: "main" } }), lane("running", "finished"), ev({ type: "lane.finished", payload: { exitCode: 0, signal: null } })]);
    expect(renderSummary(stale)).toMatchObject({ phase: "finished", blocker: { failureClass: "branch_divergence", reason: "3 commits behind main" }, nextAction: { action: "merge_forward" } });
    const fresh = fold([ev({ type: "branch.freshness", payload: { ahead: 1, behind: 0, baseBranch: "main" } })], stale);
    expect(renderSummary(fresh)).toMatchObject({ blocker: null, nextAction: { action: "review_and_merge" }, lastCheckpoint: { kind: "finished" } });
  });

  it("a bad key (provider_auth) → fix_credentials; an infra failure such as a 500 → restart_worker", () => {
    const failed = (failureClass: string, failureReason: string) =>
      renderSummary(fold([...BOOT(), lane("running", "failed"), ev({ type: "lane.failed", payload: { exitCode: 1, signal: null, failureClass, failureReason, reason: "x", role: "worker" } } as never)]));
    expect(failed("provider_auth", "auth_rejected")).toMatchObject({ blocker: { failureClass: "provider_auth", failureReason: "auth_rejected" }, nextAction: { action: "fix_credentials" } });
    expect(failed("infra", "worker_failed")).toMatchObject({ blocker: { failureClass: "infra" }, nextAction: { action: "restart_worker" } });
  });

  it("an escalated lane (as LaneView.blocked) is never told to restart_worker or merge_forward: ask_human, until a restart", () => {
    const crashed = [...BOOT(), lane("running", "failed"), ev({ type: "lane.failed", payload: { exitCode: 3, signal: null, failureClass: "tool_runtime", reason: "worker exited", role: "worker" } })];
    expect(renderSummary(fold(crashed)).nextAction.action).toBe("restart_worker");
    const escalated = fold([...crashed, ev({ type: "lane.escalated", payload: { reason: "came back", failureClass: "tool_runtime", evidence: [] } })]);
    expect(renderSummary(escalated)).toMatchObject({ phase: "failed", blocker: { failureClass: "tool_runtime" }, nextAction: { action: "ask_human" } });
    // A red check escalated while checking, then the lane settles: the escalation still holds.
    const red = fold([
      ...BOOT(),
      ev({ type: "branch.stale_against_main", payload: { ahead: 1, behind: 2, baseBranch: "main" } }),
      lane("running", "checking"),
      ev({ type: "lane.escalated", payload: { reason: "conflict", failureClass: "branch_divergence", evidence: [] } }),
      lane("checking", "failed"),
      ev({ type: "lane.failed", payload: { exitCode: 1, signal: null, failureClass: "branch_divergence", reason: "merge conflict" } }),
    ]);
    expect(renderSummary(red).nextAction.action).toBe("ask_human");
    const restarted = fold([ev({ type: "lane.restarted", payload: { attempt: 2, by: "api" } }), lane("failed", "queued")], escalated);
    expect(renderSummary(restarted)).toMatchObject({ phase: "queued", nextAction: { action: "wait" } });
    expect(renderSummary(fold([lane("queued", "starting"), lane("starting", "running"), lane("running", "failed")], restarted)).nextAction.action).toBe("restart_worker");
  });

  it("a stalled live lane: summary.stalled and inspect_stall; the next event of the lane clears it", () => {
    const working = [...BOOT(), worker("spawning", "running")];
    const stalled = fold([...working, ev({ type: "lane.stalled", payload: { idleMs: 300_000, since: "2026-01-01T00:00:04.000Z", thresholdMs: 300_000 } })]);
    expect(renderSummary(stalled)).toMatchObject({ phase: "working", stalled: { since: "2026-01-01T00:00:04.000Z", idleMs: 300_000 }, nextAction: { action: "inspect_stall" } });
    const again = fold([ev({ type: "lane.stall_ended", payload: { idleMs: 310_000 } })], stalled);
    expect(renderSummary(again)).toMatchObject({ stalled: null, nextAction: { action: "wait" } });
    expect(renderSummary(fold([lane("running", "killed")], stalled))).toMatchObject({ phase: "killed", stalled: null });
  });

  it("a restart clears the old blocker; an event folded twice changes nothing", () => {
    const failed = fold([...BOOT(), lane("running", "failed"), ev({ type: "lane.failed", payload: { exitCode: 1, signal: null, failureClass: "infra", reason: "x" } })]);
    const again = fold([ev({ type: "lane.restarted", payload: { attempt: 2, by: "api" } }), lane("failed", "queued")], failed);
    expect(renderSummary(again)).toMatchObject({ phase: "queued", blocker: null });
    const last = ev({ type: "lane.state_changed", payload: { from: "queued", to: "starting" } });
    const once = reduceSummary(again, last);
    expect(reduceSummary(once, last)).toBe(once);
  });
});

describe("activity compaction", () => {
  it("throttles tool calls, counts the skipped ones, never drops forced ones", () => {
    const t = new ActivityThrottle({ activityIntervalMs: 500, usageIntervalMs: 2000, maxWarnings: 2 });
    expect(t.toolUse(1000)).toBe(0);
    expect(t.toolUse(1100)).toBeNull();
    expect(t.toolUse(1200)).toBeNull();
    expect(t.forced(1300)).toBe(2);
    expect(t.toolUse(1400)).toBeNull();
    expect(t.toolUse(1900)).toBe(1);
    expect([t.usage(0), t.usage(100), t.flushUsage(), t.flushUsage(), t.usage(2100)]).toEqual([true, false, true, false, true]);
    expect([t.warning(), t.warning(), t.warning(), t.warning(), t.flushWarnings(), t.flushWarnings()]).toEqual([true, true, false, false, 2, 0]);
  });

  it("describes a tool call in one short line", () => {
    expect(describeToolUse({ command: "git commit\n -m x" })).toBe("git commit -m x");
    expect(describeToolUse({ argv: ["npm", "test"] })).toBe("npm test");
    expect(describeToolUse({ changes: [{ path: "/w/a" }, { path: "/w/b" }] })).toBe("/w/a, /w/b");
    expect(describeToolUse({ x: "y".repeat(500) }).length).toBeLessThan(300);
  });
});
