import { describe, expect, it } from "vitest";
import { describeExit, describeLaneEvent } from "./event-sentence";
import { LANE_EVENT_TYPES, LANE_EVENT_VERSION, LaneEventSchema, type LaneEvent, type LaneEventType } from "./lane-events";

/** One realistic payload per event type; each is parsed by the catalog's schema below, so a sample cannot drift from it. */
const SAMPLES: Record<LaneEventType, unknown> = {
  "repo.registered": { path: "/src/app", name: "app", mainBranch: "main" },
  "lane.created": { objective: "Add clamp()", branch: "lane/clamp", baseBranch: "main", engine: "claude", worktreePath: "/d/wt/clamp" },
  "lane.queued": { reason: "waiting", position: 3, waitingFor: { kind: "cap", pool: "agent", scope: "global" } },
  "lane.state_changed": { from: "running", to: "failed" },
  "lane.started": { workerId: "W1", processId: "P1", pid: 4242, attempt: 2 },
  "lane.ready": { workerId: "W1" },
  "lane.prompt_misdelivery": { workerId: "W1", evidence: "$ fix the bug\nbash: fix: command not found" },
  "lane.blocked": { reason: "dependency lane/a failed", failureClass: "infra", dependency: "L0" },
  "lane.red": { level: "targeted", command: ["node", "--test"], exitCode: 1, durationMs: 1234, failureClass: "test", tests: { format: "node-test", passed: 3, failed: 1, skipped: 0, total: 4 } },
  "lane.green": { level: "package", command: ["npm", "test"], durationMs: 5400, tests: { format: "tap", passed: 12, failed: 0, skipped: 1, total: 13 } },
  "lane.commit.created": { sha: "0123456789abcdef", subject: "Add clamp", branch: "lane/clamp", filesChanged: 2, files: ["a.js", "a.test.js"] },
  "lane.pr.opened": { url: "https://example.test/pr/1" },
  "lane.merge.ready": { sha: "abcdef0123", baseBranch: "main", fastForward: true, level: "targeted" },
  "lane.merge.blocked": { reasons: ["not_green", "stale"], level: "targeted", conflicts: [], message: "not green at targeted" },
  "lane.merged": { strategy: "merge", baseBranch: "main", previous: "1111111111", sha: "2222222222", by: "human", updatedWorktree: null },
  "lane.cleaned_up": { worktreeRemoved: true, branchDeleted: false, by: "human" },
  "lane.finished": { exitCode: 0, signal: null },
  "lane.failed": { exitCode: 1, signal: null, failureClass: "test", reason: "checks red at targeted", role: "check" },
  "lane.killed": { by: "human", signal: "SIGTERM", graceMs: 5000 },
  "lane.restarted": { attempt: 2, by: "human" },
  "lane.recovery.attempted": { recipe: "merge-forward", failureClass: "branch_divergence", steps: ["merge main"] },
  "lane.escalated": { reason: "tests still red after recovery", failureClass: "test", evidence: ["not ok 1"], recipe: "rerun" },
  "branch.stale_against_main": { ahead: 1, behind: 4, baseBranch: "main", missing: [{ sha: "aa", subject: "Bump deps" }] },
  "branch.freshness": { ahead: 2, behind: 0, baseBranch: "main" },
  "branch.merged_forward": { method: "merge", baseBranch: "main", baseSha: "b", previous: "p", head: "h123456789", fastForward: false, by: "rule-1" },
  "branch.conflict": { baseBranch: "main", files: ["src/a.ts", "src/b.ts"], during: "merge_check", evidence: [] },
  "branch.problem": { problem: "worktree_missing", failureClass: "infra", message: "the worktree is gone", evidence: [], operation: "freshness" },
  "branch.workspace_mismatch": { expected: "/wt", actual: "/etc", workerId: "W1", source: "tool:Read" },
  "worker.state_changed": { workerId: "W1", from: "spawning", to: "ready_for_prompt", trigger: "ready" },
  "worker.activity": { workerId: "W1", kind: "tool_use", name: "Edit", detail: "src/a.ts", skipped: 2 },
  "worker.prompted": { workerId: "W1", text: "Add a clamp() helper", source: "follow_up" },
  "worker.usage": { workerId: "W1", inputTokens: 1200, outputTokens: 340, costUsd: 0.0123 },
  "lane.stalled": { idleMs: 300000, since: "2026-01-01T00:00:00.000Z", thresholdMs: 300000 },
  "lane.stall_ended": { idleMs: 412000 },
  "lane.worktree_prepared": { baseBranch: "main", baseSha: "b2222222", previousBaseSha: "b1111111", head: "h3333333", merged: [{ laneId: "L0", branch: "lane/a", sha: "a4444444" }] },
  "lane.phantom_completion": { workerId: "W1", baseSha: "abc", head: "abc" },
  "trust_required": { workerId: "W1", path: "/wt" },
  "trust_resolved": { workerId: "W1", by: "human" },
  "process.started": { processId: "P1", role: "worker", pid: 10, pgid: 10, command: ["node", "agent.mjs"] },
  "process.exited": { processId: "P1", role: "check", exitCode: 1, signal: null },
  "process.lost": { processId: "P1", reason: "pid gone after restart" },
  "process.reattached": { processId: "P1", pid: 10 },
  "process.output_truncated": { processId: "P1", bytes: 3 * 1024 * 1024 },
  "scheduler.decision": { kind: "budget_exceeded", scope: "lane", key: "L", metric: "costUsd", spent: 1.5, limit: 1 },
  "check.started": { processId: "P2", level: "targeted", command: ["node", "--test"] },
  "policy.decided": { ruleId: "merge-forward-before-broad", action: "merge_forward", trigger: "check.started" },
  "policy.loaded": { source: "file", path: ".laneboard/policy.yaml", rules: 4 },
  "policy.rejected": { source: "api", path: null, errors: [{ line: 3, column: 1, message: "unknown action" }] },
  "warning": { failureClass: "tool_runtime", message: "non-JSON line from the agent" },
  "disk.full": { dir: "/data", freeBytes: 4096, detectedAt: "2026-01-01T00:00:00.000Z" },
  "disk.space_freed": { dir: "/data", freeBytes: 64 * 1024 * 1024 },
  "token.created": { tokenId: "t1", name: "claw-1", scopes: ["read"], repos: null, expiresAt: null },
  "token.revoked": { tokenId: "t1", name: "claw-1" },
  "node.joined": { nodeId: "node-b", host: "host-2", capacity: 4, clockSkewMs: 5300, restarted: false },
  "node.stopped": { nodeId: "node-b" },
  "node.lost": { nodeId: "node-b", lastHeartbeatAt: "2026-01-01T00:00:00.000Z", leaseMs: 30000, laneIds: ["L1", "L2"] },
  "node.clock_skew": { nodeId: "node-b", clockSkewMs: -4200 },
};

const event = (type: LaneEventType, payload: unknown): LaneEvent =>
  LaneEventSchema.parse({ id: 1, v: LANE_EVENT_VERSION, laneId: "L", repoId: null, at: "2026-01-01T00:00:00.000Z", type, payload }) as LaneEvent;

describe("describeLaneEvent", () => {
  it("says every event type of the catalog as a sentence, with no API path and no raw JSON", () => {
    for (const type of LANE_EVENT_TYPES) {
      expect(SAMPLES, `sample for ${type}`).toHaveProperty([type]);
      const { sentence, fields } = describeLaneEvent(event(type, SAMPLES[type]));
      expect(sentence.length, type).toBeGreaterThan(5);
      expect(sentence, type).toMatch(/^[A-Z“]/);
      expect(sentence, type).not.toMatch(/\/api\/|[{}]|undefined|null|NaN/);
      for (const fl of fields) expect(fl.value, `${type}.${fl.label}`).not.toMatch(/undefined|\[object/);
    }
  });

  it("carries the key fields: level, counts, exit and who", () => {
    expect(describeLaneEvent(event("lane.red", SAMPLES["lane.red"])).sentence).toBe("Checks at targeted failed (3 passed, 1 failed)");
    expect(describeLaneEvent(event("lane.red", SAMPLES["lane.red"])).tone).toBe("bad");
    expect(describeLaneEvent(event("lane.green", SAMPLES["lane.green"])).sentence).toBe("Checks at package passed (12 passed, 0 failed, 1 skipped) in 5.4s");
    expect(describeLaneEvent(event("lane.failed", SAMPLES["lane.failed"])).sentence).toBe("Lane failed: the check exited with code 1 (test)");
    expect(describeLaneEvent(event("worker.usage", SAMPLES["worker.usage"])).sentence).toBe("Used 1,200 input tokens and 340 output tokens, $0.0123");
    expect(describeLaneEvent(event("lane.merge.blocked", SAMPLES["lane.merge.blocked"])).sentence).toBe(
      "Not mergeable: the required green level is missing, the branch is behind its base",
    );
  });

  it("reads an unknown type (a newer server) as its name instead of throwing", () => {
    expect(describeLaneEvent({ type: "lane.teleported" as never, payload: {} as never })).toEqual({ sentence: "lane.teleported", tone: "muted", fields: [] });
  });
});

describe("describeExit", () => {
  it("says which way a process ended", () => {
    expect(describeExit(0, null)).toBe("exited cleanly (code 0)");
    expect(describeExit(2, null)).toBe("exited with code 2");
    expect(describeExit(null, "SIGKILL")).toBe("was stopped by SIGKILL");
    expect(describeExit(null, null)).toBe("ended without an exit code");
  });
});
