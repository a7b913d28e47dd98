import { describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { parseLaneEventPayload } from "@/lib/lane-events";
import { classifyFailure, type FailureInput } from "../checks/classify-failure";
import { fixture } from "../checks/fixtures.testing";
import { RECOVERY_KEYS, RECOVERY_RECIPES, RecoveryLedger, recoveryKeyFor, STARTUP_WINDOW_MS } from "./recovery-recipes";

function classify(name: string, role: FailureInput["role"], prompt?: string) {
  const f = fixture(name);
  return classifyFailure({ exitCode: f.exitCode, signal: f.signal, output: f.text, role, command: f.command, prompt });
}

describe("recoveryKeyFor on real failures", () => {
  const cases: Array<[string, Parameters<typeof recoveryKeyFor>[0], string | null]> = [
    ["trust prompt", { classification: classify("claude-trust-prompt-pane.txt", "worker"), role: "worker", stale: false }, "trust_prompt_unresolved"],
    ["prompt in a shell", { classification: classify("prompt-to-bash.txt", "worker", "Fix the login test"), role: "worker", stale: false }, "prompt_misdelivered"],
    ["engine 429", { classification: classify("claude-stream-json-rate-limited.txt", "worker"), role: "worker", stale: false }, "engine_rate_limited"],
    ["tsc red on a stale branch", { classification: classify("tsc-errors.txt", "check"), role: "check", stale: true }, "compile_red_after_main_refactor"],
    ["tsc red on a fresh branch", { classification: classify("tsc-errors.txt", "check"), role: "check", stale: false }, null],
    ["tests red on a stale branch", { classification: classify("vitest-fail.txt", "check"), role: "check", stale: true }, "stale_branch"],
    ["tests red on a fresh branch", { classification: classify("vitest-fail.txt", "check"), role: "check", stale: false }, null],
    ["merge conflict", { classification: classify("git-merge-conflict.txt", "worker"), role: "worker", stale: true }, null],
    ["worker died 2 s after start", { classification: classify("npm-run-build-fail.txt", "worker"), role: "worker", stale: false, workerUptimeMs: 2_000 }, "worker_startup_crash"],
    ["worker died after 5 min", { classification: classify("npm-run-build-fail.txt", "worker"), role: "worker", stale: false, workerUptimeMs: 300_000 }, null],
    ["out of memory", { classification: classify("node-heap-oom.txt", "worker"), role: "worker", stale: false, workerUptimeMs: 1_000 }, null],
    // A phantom completion 2 s after start is not a startup crash: no second agent run.
    ["phantom completion 2 s after start", { classification: { failureClass: "tool_runtime", reason: "phantom_completion" }, role: "worker", stale: false, workerUptimeMs: 2_000 }, "phantom_completion"],
    // A rejected key: no recipe (a restart sends the same key).
    ["model API 401 (Claude Code)", { classification: classify("claude-stream-json-401.txt", "worker"), role: "worker", stale: false, workerUptimeMs: 500 }, null],
    ["model API 401 (Codex)", { classification: classify("codex-exec-json-401.txt", "worker"), role: "worker", stale: false, workerUptimeMs: 500 }, null],
  ];
  for (const [title, facts, key] of cases) it(`${title} → ${key}`, () => expect(recoveryKeyFor(facts)).toBe(key));

  it("the startup window is the boundary", () => {
    const classification = { failureClass: "tool_runtime" as const, reason: "worker_failed" as const };
    expect(recoveryKeyFor({ classification, role: "worker", stale: false, workerUptimeMs: STARTUP_WINDOW_MS - 1 })).toBe("worker_startup_crash");
    expect(recoveryKeyFor({ classification, role: "worker", stale: false, workerUptimeMs: STARTUP_WINDOW_MS })).toBeNull();
  });
});

describe("the recipe table", () => {
  it("has one recipe per key, each with a unique name, steps and exactly one attempt", () => {
    expect(Object.keys(RECOVERY_RECIPES).sort()).toEqual([...RECOVERY_KEYS].sort());
    const names = Object.values(RECOVERY_RECIPES).map((r) => r.recipe);
    expect(new Set(names).size).toBe(names.length);
    for (const [key, r] of Object.entries(RECOVERY_RECIPES)) {
      expect(r.key).toBe(key);
      expect(r.maxAttempts).toBe(1);
      expect(r.steps.length).toBeGreaterThan(0);
    }
  });
});

describe("RecoveryLedger", () => {
  const failure = classify("tsc-errors.txt", "check");

  it("attempts once, then escalates with the evidence when the failure comes back", () => {
    const ledger = new RecoveryLedger();
    const first = ledger.decide("lane-1", "compile_red_after_main_refactor", failure);
    expect(first.kind).toBe("attempt");
    expect(first.event).toEqual({ type: "lane.recovery.attempted", laneId: "lane-1", payload: { recipe: "merge-forward-after-main-refactor", failureClass: "compile" } });
    parseLaneEventPayload(first.event.type, first.event.payload);
    ledger.recordAttempt("lane-1", "compile_red_after_main_refactor", new Date("2026-01-01T00:00:00Z"));

    const second = ledger.decide("lane-1", "compile_red_after_main_refactor", failure);
    expect(second.kind).toBe("escalate");
    if (second.event.type !== "lane.escalated") throw new Error("expected an escalation");
    expect(second.event.payload.failureClass).toBe("compile");
    expect(second.event.payload.evidence).toEqual(failure.evidence);
    expect(second.event.payload.reason).toContain("merge-forward-after-main-refactor");
    parseLaneEventPayload(second.event.type, second.event.payload);
  });

  it("counts per lane and per failure kind", () => {
    const ledger = new RecoveryLedger();
    ledger.recordAttempt("lane-1", "stale_branch");
    expect(ledger.shouldAttempt("lane-1", "stale_branch")).toBe(false);
    expect(ledger.shouldAttempt("lane-1", "worker_startup_crash")).toBe(true);
    expect(ledger.shouldAttempt("lane-2", "stale_branch")).toBe(true);
  });

  it("refuses a second recorded attempt", () => {
    const ledger = new RecoveryLedger();
    ledger.recordAttempt("lane-1", "engine_rate_limited");
    let err: unknown;
    try {
      ledger.recordAttempt("lane-1", "engine_rate_limited");
    } catch (e) {
      err = e;
    }
    expect(isAppError(err) && err.code).toBe("conflict");
    expect(ledger.count("lane-1", "engine_rate_limited")).toBe(1);
  });

  it("escalates at once when there is no recipe", () => {
    const conflict = classify("git-merge-conflict.txt", "worker");
    const d = new RecoveryLedger().decide("lane-1", null, conflict);
    expect(d.kind).toBe("escalate");
    expect(d.event.payload).toMatchObject({ failureClass: "branch_divergence", evidence: conflict.evidence });
  });

  it("round-trips through JSON and rebuilds from events", () => {
    const ledger = new RecoveryLedger();
    ledger.recordAttempt("lane-1", "stale_branch", new Date("2026-01-01T00:00:00Z"));
    ledger.recordAttempt("lane-2", "trust_prompt_unresolved", new Date("2026-01-01T00:01:00Z"));
    const json = JSON.parse(JSON.stringify(ledger));
    expect(json).toEqual({
      version: 1,
      attempts: [
        { laneId: "lane-1", key: "stale_branch", recipe: "merge-forward", at: "2026-01-01T00:00:00.000Z" },
        { laneId: "lane-2", key: "trust_prompt_unresolved", recipe: "resolve-trust-prompt", at: "2026-01-01T00:01:00.000Z" },
      ],
    });
    expect(RecoveryLedger.fromJSON(json).shouldAttempt("lane-1", "stale_branch")).toBe(false);

    const events = json.attempts.map((a: { laneId: string; recipe: string; at: string }) => ({ type: "lane.recovery.attempted", laneId: a.laneId, at: a.at, payload: { recipe: a.recipe, failureClass: "test" } }));
    events.push({ type: "lane.red", laneId: "lane-3", at: "2026-01-01T00:02:00Z", payload: { recipe: "merge-forward", failureClass: "test" } });
    expect(RecoveryLedger.fromEvents(events).toJSON()).toEqual(json);
  });

  it("rejects a malformed ledger", () => {
    expect(() => RecoveryLedger.fromJSON({ version: 1, attempts: [{ laneId: "x", key: "nope", recipe: "r", at: "t" }] })).toThrow(/bad recovery ledger/);
  });

  it("forgets a lane", () => {
    const ledger = new RecoveryLedger();
    ledger.recordAttempt("lane-1", "stale_branch");
    ledger.recordAttempt("lane-2", "stale_branch");
    ledger.forgetLane("lane-1");
    expect(ledger.shouldAttempt("lane-1", "stale_branch")).toBe(true);
    expect(ledger.attemptsOf("lane-2")).toHaveLength(1);
  });
});
