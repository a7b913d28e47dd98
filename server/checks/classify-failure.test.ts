import { describe, expect, it } from "vitest";
import type { FailureClass } from "@/lib/lane-state";
import { classifyFailure, FAILURE_REASONS, FAILURE_RULES, MAX_EVIDENCE_CHARS, type FailureInput, type FailureReason } from "./classify-failure";
import { fixture, FIXTURE_NAMES } from "./fixtures.testing";

const PROMPT = "Fix the failing login test in src/auth.ts and commit the change";

interface Case {
  role: FailureInput["role"];
  failureClass: FailureClass;
  reason: FailureReason;
  /** Every one of these must appear in some evidence line. */
  evidence: string[];
  prompt?: string;
}

/** Every captured fixture with the verdict it must get (the exit status comes from the manifest). */
const CASES: Record<string, Case> = {
  "tsc-errors.txt": { role: "check", failureClass: "compile", reason: "typescript", evidence: ["error TS2322", "error TS2307", "error TS2552"] },
  "tsc-errors-pretty.txt": { role: "check", failureClass: "compile", reason: "typescript", evidence: ["broken.ts:4:7 - error TS2322", "Found 3 errors"] },
  "esbuild-error.txt": { role: "check", failureClass: "compile", reason: "bundler", evidence: ['✘ [ERROR] Could not resolve "./nope"'] },
  "webpack-errors.txt": { role: "check", failureClass: "compile", reason: "bundler", evidence: ["ERROR in ./wp/bad.js", "Module parse failed", "Module not found: Error: Can't resolve './nope'", "compiled with 2 errors"] },
  "node-syntax-error.txt": { role: "check", failureClass: "compile", reason: "syntax_error", evidence: ["SyntaxError: Unexpected token ';'"] },
  "node-err-module-not-found.txt": { role: "check", failureClass: "compile", reason: "module_not_found", evidence: ["Cannot find package 'tap'"] },
  "vitest-syntax-error.txt": { role: "check", failureClass: "compile", reason: "syntax_error", evidence: ["[PARSE_ERROR] Unexpected token", "Transform failed with 1 error"] },
  "jest-syntax-error.txt": { role: "check", failureClass: "compile", reason: "syntax_error", evidence: ["Jest encountered an unexpected token", "SyntaxError:", "Missing semicolon"] },
  "go-build-error.txt": { role: "check", failureClass: "compile", reason: "go_compile", evidence: ["./x.go:3:37: invalid operation", "./x.go:4:17: y declared but not used"] },
  "cargo-build-error.txt": { role: "check", failureClass: "compile", reason: "rust_compile", evidence: ["error[E0277]: cannot add `&str` to `i32`", "error: could not compile `rs`"] },

  "node-test-tap-fail.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["not ok 2 - subtracts wrongly", "# fail 1"] },
  "node-test-spec-fail.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["✖ subtracts wrongly", "ℹ fail 1"] },
  "node-test-junit-fail.xml": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ['<failure type="testCodeFailure"', 'failures="1"'] },
  // npm runs `node --test` without a TTY: node picks the TAP reporter.
  "npm-test-node-fail.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["not ok 2 - subtracts wrongly", "# fail 1"] },
  "vitest-fail.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["× adds wrongly", "FAIL  math.test.ts > math > adds wrongly", "Tests  1 failed | 3 passed"] },
  "vitest-junit-fail.xml": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ['<failure message="expected 4 to be 5', 'tests="6" failures="1"'] },
  "jest-fail.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["● math › adds wrongly", "FAIL ./math.test.js", "Tests:       1 failed"] },
  "mocha-fail.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["1) adds wrongly", "1 failing"] },
  "mocha-tap-fail.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["not ok 2 math adds wrongly"] },
  "tape-fail.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["not ok 2 adds wrongly"] },
  "tap14-fail.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["not ok 2 - adds wrongly"] },
  "pytest-fail.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["FAILED test_math.py::test_adds_wrongly", "1 failed, 3 passed"] },
  "pytest-junit-run.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["FAILED test_math.py::test_adds_wrongly"] },
  "pytest-junit-fail.xml": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ['<failure message="assert (2 + 2) == 5"'] },
  "go-test-v-fail.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["--- FAIL: TestAddsWrongly"] },
  "go-test-fail.txt": { role: "check", failureClass: "test", reason: "test_failure_uncounted", evidence: ["--- FAIL: TestAddsWrongly"] },
  "cargo-test-fail.txt": { role: "check", failureClass: "test", reason: "tests_failed", evidence: ["test tests::adds_wrongly ... FAILED", "test result: FAILED. 1 passed; 1 failed"] },
  "npm-run-build-fail.txt": { role: "check", failureClass: "test", reason: "check_failed", evidence: ["exit: code 2", "build step failed: missing dist/"] },

  "git-merge-conflict.txt": { role: "worker", failureClass: "branch_divergence", reason: "merge_conflict", evidence: ["CONFLICT (content): Merge conflict in greet.ts", "Automatic merge failed"] },
  "git-rebase-conflict.txt": { role: "worker", failureClass: "branch_divergence", reason: "merge_conflict", evidence: ["CONFLICT (content): Merge conflict in greet.ts", "could not apply"] },
  "git-push-non-fast-forward.txt": { role: "worker", failureClass: "branch_divergence", reason: "push_rejected", evidence: ["! [rejected]        main -> main (non-fast-forward)"] },
  "git-status-diverged.txt": { role: "check", failureClass: "branch_divergence", reason: "branch_diverged", evidence: ["Your branch and 'origin/main' have diverged"] },
  "git-pull-divergent.txt": { role: "worker", failureClass: "branch_divergence", reason: "branch_diverged", evidence: ["fatal: Need to specify how to reconcile divergent branches."] },
  "git-status-behind.txt": { role: "check", failureClass: "branch_divergence", reason: "branch_behind", evidence: ["Your branch is behind 'origin/main' by 1 commit"] },

  "node-heap-oom.txt": { role: "check", failureClass: "infra", reason: "out_of_memory", evidence: ["JavaScript heap out of memory"] },
  "npm-run-oom.txt": { role: "check", failureClass: "infra", reason: "out_of_memory", evidence: ["JavaScript heap out of memory"] },
  "npm-run-sigkill.txt": { role: "check", failureClass: "infra", reason: "killed_from_outside", evidence: ["exit: code 137"] },
  "node-sigkill.txt": { role: "worker", failureClass: "tool_runtime", reason: "killed_from_outside", evidence: ["exit: signal SIGKILL"] },
  "python-memory-error.txt": { role: "check", failureClass: "infra", reason: "out_of_memory", evidence: ["MemoryError"] },
  "node-enospc.txt": { role: "check", failureClass: "infra", reason: "disk_full", evidence: ["ENOSPC: no space left on device"] },
  "npm-install-econnrefused.txt": { role: "check", failureClass: "infra", reason: "network", evidence: ["npm error code ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:9"] },
  "npm-install-enotfound.txt": { role: "check", failureClass: "infra", reason: "network", evidence: ["getaddrinfo ENOTFOUND registry.invalid"] },
  "npm-install-etimedout.txt": { role: "check", failureClass: "infra", reason: "network", evidence: ["npm error code FETCH_ERROR", "npm error network timeout at: http://127.0.0.1:47123/left-pad"] },
  "node-http-econnrefused.txt": { role: "worker", failureClass: "infra", reason: "network", evidence: ["connect ECONNREFUSED 127.0.0.1:9"] },
  "claude-stream-json-401.txt": { role: "worker", failureClass: "provider_auth", reason: "auth_rejected", evidence: ['"api_error_status":401', '"error":"authentication_failed"'] },
  "codex-exec-json-401.txt": { role: "worker", failureClass: "provider_auth", reason: "auth_rejected", evidence: ["unexpected status 401 Unauthorized: invalid x-api-key"] },
  "claude-stream-json-rate-limited.txt": { role: "worker", failureClass: "infra", reason: "rate_limited", evidence: ['"error_status":429', "Request rejected (429)"] },

  "claude-trust-prompt-pane.txt": { role: "worker", failureClass: "trust_gate", reason: "trust_prompt", evidence: ["Is this a project you created or one you trust?", "1. Yes, I trust this folder"] },
  "prompt-to-bash.txt": { role: "worker", failureClass: "prompt_delivery", reason: "prompt_in_shell", evidence: ["bash: line 1: Fix: command not found"], prompt: PROMPT },
  "prompt-to-sh-stdin.txt": { role: "worker", failureClass: "prompt_delivery", reason: "prompt_in_shell", evidence: ["sh: 1: Fix: not found"], prompt: PROMPT },

  // Passing runs: if a caller classifies them anyway, they are not mistaken for anything specific.
  "node-test-tap-pass.txt": { role: "check", failureClass: "test", reason: "check_failed", evidence: ["exit: code 0"] },
  "node-test-spec-pass.txt": { role: "check", failureClass: "test", reason: "check_failed", evidence: ["exit: code 0"] },
  "vitest-pass.txt": { role: "check", failureClass: "test", reason: "check_failed", evidence: ["exit: code 0"] },
  "jest-pass.txt": { role: "check", failureClass: "test", reason: "check_failed", evidence: ["exit: code 0"] },
  "mocha-pass.txt": { role: "check", failureClass: "test", reason: "check_failed", evidence: ["exit: code 0"] },
  "pytest-pass-quiet.txt": { role: "check", failureClass: "test", reason: "check_failed", evidence: ["exit: code 0"] },
  "go-test-v-pass.txt": { role: "check", failureClass: "test", reason: "check_failed", evidence: ["exit: code 0"] },
  "cargo-test-pass.txt": { role: "check", failureClass: "test", reason: "check_failed", evidence: ["exit: code 0"] },
};

function classifyFixture(name: string, c: Pick<Case, "role" | "prompt">, extra: Partial<FailureInput> = {}) {
  const f = fixture(name);
  return classifyFailure({ exitCode: f.exitCode, signal: f.signal, output: f.text, role: c.role, command: f.command, prompt: c.prompt, ...extra });
}

describe("classifyFailure on real outputs", () => {
  it("has a case for every captured fixture", () => {
    expect(FIXTURE_NAMES.filter((n) => !CASES[n])).toEqual([]);
  });

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name} → ${c.failureClass}/${c.reason}`, () => {
      const got = classifyFixture(name, c);
      expect({ failureClass: got.failureClass, reason: got.reason }).toEqual({ failureClass: c.failureClass, reason: c.reason });
      for (const needle of c.evidence) expect(got.evidence.some((l) => l.includes(needle)), `evidence has "${needle}": ${JSON.stringify(got.evidence)}`).toBe(true);
      expect(got.evidence.length).toBeGreaterThan(0);
      expect(got.evidence.length).toBeLessThanOrEqual(8);
      for (const l of got.evidence) expect(l.length).toBeLessThanOrEqual(MAX_EVIDENCE_CHARS);
      expect(got.summary.length).toBeGreaterThan(0);
    });
  }
});

describe("classifyFailure rules that depend on the caller's facts", () => {
  it("a SIGKILL Laneboard asked for is `killed`, not out of memory", () => {
    expect(classifyFixture("node-sigkill.txt", { role: "worker" }, { killRequested: true })).toMatchObject({ failureClass: "killed", reason: "kill_requested" });
  });
  it("a check killed at its deadline is a timeout (infra), even with test failures printed before", () => {
    const output = `${fixture("vitest-fail.txt").text}\nwaiting for server...\n`;
    const got = classifyFailure({ exitCode: null, signal: "SIGTERM", output, role: "check", command: ["npm", "test"], killRequested: true, timedOut: true, timeoutMs: 500 });
    expect(got).toMatchObject({ failureClass: "infra", reason: "timed_out", summary: "timed out after 500 ms; its process group was killed" });
    expect(got.evidence).toEqual(["exit: signal SIGTERM", expect.any(String), expect.any(String), "waiting for server..."]);
  });
  it("without the prompt, a shell's command-not-found is infra, not prompt delivery", () => {
    expect(classifyFixture("prompt-to-bash.txt", { role: "worker" })).toMatchObject({ failureClass: "infra", reason: "command_not_found" });
  });
  it("a prompt whose first word is not the missing command is not prompt delivery", () => {
    expect(classifyFixture("prompt-to-bash.txt", { role: "worker", prompt: "Please fix the login test" })).toMatchObject({ reason: "command_not_found" });
  });
  it("rate limiting is an engine failure: the same text from a check stays a check failure", () => {
    expect(classifyFixture("claude-stream-json-rate-limited.txt", { role: "check" })).toMatchObject({ failureClass: "test", reason: "check_failed" });
  });
  it("counted test failures beat a network error printed by the code under test", () => {
    const output = `${fixture("node-http-econnrefused.txt").text}\n${fixture("vitest-fail.txt").text}`;
    expect(classifyFailure({ exitCode: 1, signal: null, output, role: "check", command: ["npx", "vitest"] })).toMatchObject({ failureClass: "test", reason: "tests_failed" });
  });
  it("out of memory (with the kernel's evidence) beats the test failures printed before the kill", () => {
    const output = `${fixture("vitest-fail.txt").text}\nKilled\n`;
    const oomKilled = "the kernel log: out of memory, killed process 4242 (node)";
    expect(classifyFailure({ exitCode: 137, signal: null, output, role: "check", command: ["npm", "test"], oomKilled })).toMatchObject({
      failureClass: "infra",
      reason: "out_of_memory",
      summary: `killed by the out-of-memory killer (${oomKilled})`,
      evidence: ["exit: code 137", `OOM killer: ${oomKilled}`],
    });
  });
  it("a SIGKILL without OOM evidence is a kill from outside, never 'most likely out of memory', and beats printed test failures", () => {
    const output = `${fixture("vitest-fail.txt").text}\nKilled\n`;
    const got = classifyFailure({ exitCode: 137, signal: null, output, role: "check", command: ["npm", "test"] });
    expect(got).toMatchObject({ failureClass: "infra", reason: "killed_from_outside" });
    expect(got.summary).toMatch(/^killed by SIGKILL from outside Laneboard \(exit: code 137\); neither the kernel log nor a cgroup counter/);
    expect(got.summary).not.toMatch(/memory killer|most likely/);
    const worker = classifyFailure({ exitCode: null, signal: "SIGKILL", output: "", role: "worker", command: ["sh"], wrapperDied: true });
    expect(worker).toMatchObject({ failureClass: "tool_runtime", reason: "killed_from_outside", summary: "its supervising wrapper was killed by SIGKILL from outside Laneboard; the command was stopped" });
  });
  it("a JSON.parse SyntaxError at runtime is not a compile error", () => {
    const output = 'SyntaxError: Unexpected token } in JSON at position 12\n    at JSON.parse (<anonymous>)\n';
    expect(classifyFailure({ exitCode: 1, signal: null, output, role: "worker", command: ["node", "x.js"] })).toMatchObject({ failureClass: "tool_runtime", reason: "worker_failed" });
  });
  it("a worker that dies of another signal is a tool_runtime crash", () => {
    expect(classifyFailure({ exitCode: null, signal: "SIGSEGV", output: "", role: "worker", command: ["claude"] })).toMatchObject({ failureClass: "tool_runtime", reason: "crashed_by_signal", evidence: ["exit: signal SIGSEGV"] });
  });
  it("reads only the tail of a huge output", () => {
    const output = "CONFLICT (content): Merge conflict in a.ts\n" + "x".repeat(2 << 20);
    expect(classifyFailure({ exitCode: 1, signal: null, output, role: "check", command: ["make"] }).reason).toBe("check_failed");
  });
  it("every rule's reason is a declared reason", () => {
    for (const r of FAILURE_RULES) expect(FAILURE_REASONS).toContain(r.reason);
  });
});
