import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { FailureClass } from "@/lib/lane-state";
import { classifyFailure, FAILURE_REASONS, FAILURE_RULES, MAX_EVIDENCE_CHARS, type FailureInput, type FailureReason } from "./classify-failure";
import { fixture, FIXTURE_NAMES } from "./fixtures.testing";

interface Case {
  role: FailureInput["role"];
  failureClass: FailureClass;
  reason: FailureReason;
  /** Every one of these must appear in some evidence line. */
  evidence: string[];
  prompt?: string;
}

/**
 * Every captured fixture with the verdict it must get (the exit status comes from the manifest),
 * kept beside the fixtures in `fixtures/verdicts.json` (see fixtures/README.md).
 */
const CASES = JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", "verdicts.json"), "utf8")) as Record<string, Case>;

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
