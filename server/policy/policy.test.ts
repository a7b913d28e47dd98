import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { DEFAULT_POLICY_RULES } from "./default-rules";
import { evaluatePolicy, type PolicyFacts } from "./evaluate-policy";
import { loadPolicyFile, parsePolicyText } from "./load-policy";
import { PolicyStore } from "./policy-store";

describe("default rules", () => {
  const cases: Array<[string, PolicyFacts, string, string]> = [
    ["startup blocked, first time", { event: "lane.blocked", state: "running", recoveryAttempted: false, failureClass: "trust_gate" }, "blocked-recover-once", "recover_once"],
    ["startup blocked again", { event: "lane.blocked", state: "running", recoveryAttempted: true, failureClass: "trust_gate" }, "blocked-escalate", "escalate"],
    ["red on a stale branch, recipe unused", { event: "lane.red", failureClass: "test", stale: true, recoverable: true, recoveryAttempted: false }, "failure-recover-once", "recover_once"],
    ["red again after the recipe", { event: "lane.red", failureClass: "test", stale: true, recoverable: true, recoveryAttempted: true }, "failure-escalate-after-recovery", "escalate"],
    ["worker crashed at startup", { event: "lane.failed", failureClass: "tool_runtime", recoverable: true, recoveryAttempted: false }, "failure-recover-once", "recover_once"],
    ["merge conflict with the base", { event: "lane.red", failureClass: "branch_divergence", recoverable: false }, "conflict-escalate", "escalate"],
    ["stale lane before a workspace check", { event: "check.started", state: "checking", checkLevel: "workspace", stale: true }, "stale-merge-forward-before-checks", "merge_forward"],
    ["stale lane before a merge_ready check", { event: "check.started", checkLevel: "merge_ready", stale: true }, "stale-merge-forward-before-checks", "merge_forward"],
    ["merge-ready, in scope", { event: "lane.merge.ready", state: "finished", green: ["targeted", "merge_ready"], requiredGreen: true, withinScope: true, stale: false }, "green-merge", "merge"],
    ["green at the required level but stale", { event: "lane.green", state: "checking", green: ["merge_ready"], requiredGreen: true, withinScope: true, stale: true }, "green-but-stale-merge-forward", "merge_forward"],
    ["merged", { event: "lane.merged", state: "finished" }, "merged-cleanup", "cleanup_worktree"],
  ];
  for (const [title, facts, ruleId, action] of cases) {
    it(`${title} → ${ruleId}`, () => {
      expect(evaluatePolicy(DEFAULT_POLICY_RULES, facts)).toMatchObject({ ruleId, action: { action } });
    });
  }
  const none: Array<[string, PolicyFacts]> = [
    ["stale lane before a targeted check", { event: "check.started", checkLevel: "targeted", stale: true }],
    ["fresh lane before a workspace check", { event: "check.started", checkLevel: "workspace", stale: false }],
    ["red on a fresh branch (no recipe)", { event: "lane.red", failureClass: "test", stale: false, recoverable: false }],
    ["green only at targeted", { event: "lane.green", green: ["targeted"], requiredGreen: false, withinScope: true, stale: false }],
    ["merge-ready but out of scope", { event: "lane.merge.ready", requiredGreen: true, withinScope: false, stale: false }],
    ["merge-ready, scope unknown", { event: "lane.merge.ready", requiredGreen: true, stale: false }],
    ["finished (not merged): nothing is cleaned up", { event: "lane.finished", state: "finished" }],
    ["blocked, attempt unknown", { event: "lane.blocked" }],
    ["no event", {}],
  ];
  for (const [title, facts] of none) it(`${title} → no rule`, () => expect(evaluatePolicy(DEFAULT_POLICY_RULES, facts)).toBeNull());
  it("first match wins, in list order", () => {
    const parsed = parsePolicyText(`
rules:
  - id: notify-first
    description: tell someone
    when: { event: lane.finished }
    then: { action: notify, message: done }
  - id: cleanup
    description: clean up
    when: { event: lane.finished }
    then: { action: cleanup_worktree }
`);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(evaluatePolicy(parsed.rules, { event: "lane.finished" })).toEqual({ ruleId: "notify-first", action: { action: "notify", message: "done" }, description: "tell someone" });
  });
});

describe("parsePolicyText", () => {
  it("accepts YAML, applies parameter defaults, and appends the defaults when asked", () => {
    const r = parsePolicyText(`version: 1
includeDefaults: true
rules:
  - id: finished-cleanup
    description: Keep finished worktrees, delete nothing; just tell.
    when:
      event: lane.finished
    then:
      action: notify
      message: lane finished
  - id: squash
    description: squash merges
    when: { event: lane.green, green: merge_ready }
    then: { action: merge, strategy: squash }
  - id: wipe
    description: delete branch on cleanup
    when: { event: lane.killed }
    then: { action: cleanup_worktree }
`);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.rules.map((x) => x.id)).toEqual(["finished-cleanup", "squash", "wipe", ...DEFAULT_POLICY_RULES.map((x) => x.id)]);
    expect(r.rules[2]!.then).toEqual({ action: "cleanup_worktree", deleteBranch: false });
  });

  it("accepts JSON (tab-indented too)", () => {
    const json = JSON.stringify({ rules: [{ id: "a", description: "d", when: { failureClass: "infra" }, then: { action: "escalate" } }] }, null, "\t");
    const r = parsePolicyText(json);
    expect(r.ok && r.rules.map((x) => x.id)).toEqual(["a"]);
  });

  it("rejects a bad action with the line of the action", () => {
    const text = `rules:
  - id: ok-rule
    description: fine
    when: { event: lane.finished }
    then: { action: cleanup_worktree }
  - id: bad-rule
    description: not an action
    when: { event: lane.green }
    then:
      action: explode
`;
    const r = parsePolicyText(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ line: 10, column: 15, path: "rules[1].then.action" });
    expect(r.errors[0]!.message).toMatch(/merge.*notify/);
  });

  it("points at the right line for wrong types, unknown keys, unknown events, missing fields and duplicate ids", () => {
    const text = [
      "rules:", //                                   1
      "  - id: one", //                              2
      "    description: d", //                       3
      "    when:", //                                4
      "      stale: yes please", //                  5  not a boolean
      "      colour: red", //                        6  unknown key
      "    then: { action: merge }", //              7
      "  - id: two", //                              8
      "    description: d", //                       9
      "    when: { event: lane.exploded }", //       10 unknown event
      "    then: { action: notify }", //             11 missing message
      "  - id: one", //                              12 duplicate id
      "    description: d", //                       13
      "    when: {}", //                             14
      "    then: { action: rebase }", //             15
    ].join("\n");
    const r = parsePolicyText(text);
    if (r.ok) throw new Error("expected errors");
    expect(r.errors.map((e) => [e.line, e.path])).toEqual([
      [5, "rules[0].when.stale"],
      [6, "rules[0].when"],
      [10, "rules[1].when.event"],
      [11, "rules[1].then.message"],
      [12, "rules[2].id"],
    ]);
    expect(r.errors[1]!.message).toContain("colour");
    expect(r.errors[4]!.message).toContain('duplicate rule id "one"');
  });

  it("rejects duplicate ids in an otherwise valid file", () => {
    const r = parsePolicyText("rules:\n  - { id: a, description: d, when: {}, then: { action: rebase } }\n  - { id: a, description: d, when: {}, then: { action: rebase } }\n");
    expect(r.ok === false && r.errors).toEqual([{ line: 3, column: 11, path: "rules[1].id", message: 'rules[1].id: duplicate rule id "a"' }]);
  });

  it("gives the line of a YAML syntax error", () => {
    const r = parsePolicyText("rules:\n  - id: a\n    description: d\n    when: { event: lane.finished\n    then: { action: rebase }\n");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]!.line).toBeGreaterThanOrEqual(4);
    expect(r.errors[0]!.line).toBeLessThanOrEqual(5);
    const dup = parsePolicyText("rules: []\nrules: []\n");
    expect(dup.ok === false && dup.errors[0]).toMatchObject({ line: 2, column: 1 });
  });

  it("gives the line of a JSON syntax error", () => {
    const r = parsePolicyText('{\n  "rules": [\n    { "id": "a", }\n    oops\n  ]\n}\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it("rejects an empty document at line 1", () => {
    const r = parsePolicyText("");
    expect(r.ok === false && r.errors[0]).toMatchObject({ line: 1, path: "" });
  });
});

describe("loadPolicyFile", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-policy-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads YAML and JSON files", async () => {
    await writeFile(path.join(dir, "policy.yaml"), "rules:\n  - id: y\n    description: d\n    when: {}\n    then: { action: escalate }\n");
    await writeFile(path.join(dir, "policy.json"), '{"rules":[{"id":"j","description":"d","when":{},"then":{"action":"rebase"}}]}');
    expect(await loadPolicyFile(path.join(dir, "policy.yaml"))).toMatchObject({ ok: true, source: "file", rules: [{ id: "y" }] });
    expect(await loadPolicyFile(path.join(dir, "policy.json"))).toMatchObject({ ok: true, source: "file", rules: [{ id: "j" }] });
  });

  it("uses the defaults when the file does not exist, and reports an unreadable one", async () => {
    const missing = await loadPolicyFile(path.join(dir, "nope.yaml"));
    expect(missing).toMatchObject({ ok: true, source: "defaults" });
    expect(missing.ok && missing.rules.map((r) => r.id)).toEqual(DEFAULT_POLICY_RULES.map((r) => r.id));
    const unreadable = await loadPolicyFile(dir); // a directory: EISDIR
    expect(unreadable.ok === false && unreadable.errors[0]).toMatchObject({ line: 0 });
  });
});

describe("PolicyStore", () => {
  const GOOD = "rules:\n  - id: always-escalate\n    description: d\n    when: {}\n    then: { action: escalate }\n";
  const BAD = "rules:\n  - id: x\n    description: d\n    when: {}\n    then: { action: detonate }\n";

  it("starts with the defaults", () => {
    const store = new PolicyStore();
    expect(store.get("repo-1")).toMatchObject({ source: "defaults", text: null });
    expect(store.evaluate("repo-1", { event: "lane.merged" })?.ruleId).toBe("merged-cleanup");
  });

  it("keeps the previous rules in force after a bad replace", () => {
    const store = new PolicyStore();
    expect(store.replace("repo-1", GOOD, "api", new Date("2026-01-01T00:00:00Z")).ok).toBe(true);
    const bad = store.replace("repo-1", BAD);
    expect(bad.ok === false && bad.errors[0]).toMatchObject({ line: 5, path: "rules[0].then.action" });
    expect(store.get("repo-1")).toMatchObject({ source: "api", text: GOOD, updatedAt: "2026-01-01T00:00:00.000Z" });
    expect(store.evaluate("repo-1", { event: "lane.finished" })?.ruleId).toBe("always-escalate");
    // Other repos are untouched.
    expect(store.get("repo-2").source).toBe("defaults");
  });

  it("keeps the defaults in force after a bad first replace", () => {
    const store = new PolicyStore();
    expect(store.replace("repo-1", BAD).ok).toBe(false);
    expect(store.get("repo-1").source).toBe("defaults");
  });

  it("replaceOrThrow throws invalid_input with the errors, and reset goes back to the defaults", () => {
    const store = new PolicyStore();
    store.replaceOrThrow("repo-1", GOOD);
    let err: unknown;
    try {
      store.replaceOrThrow("repo-1", BAD);
    } catch (e) {
      err = e;
    }
    expect(isAppError(err) && err.code).toBe("invalid_input");
    expect(isAppError(err) && err.message).toContain("line 5");
    expect(isAppError(err) && (err.details?.errors as unknown[]).length).toBe(1);
    expect(store.get("repo-1").text).toBe(GOOD);
    store.reset("repo-1");
    expect(store.get("repo-1").source).toBe("defaults");
  });
});
