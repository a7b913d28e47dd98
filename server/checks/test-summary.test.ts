import { describe, expect, it } from "vitest";
import { fixture } from "./fixtures.testing";
import { summarizeTestOutput, type TestSummary } from "./test-summary";

/** Expected counts per captured output; `null` = no countable summary in that output. */
const EXPECTED: Record<string, Omit<TestSummary, "total"> | null> = {
  // node --test: 8 tests = 4 pass + 1 fail + 2 skipped + 1 todo (node's own summary)
  "node-test-tap-fail.txt": { format: "node-test", passed: 4, failed: 1, skipped: 3 },
  "node-test-tap-pass.txt": { format: "node-test", passed: 2, failed: 0, skipped: 2 },
  "node-test-spec-fail.txt": { format: "node-test", passed: 4, failed: 1, skipped: 3 },
  "node-test-spec-pass.txt": { format: "node-test", passed: 2, failed: 0, skipped: 2 },
  "npm-test-node-fail.txt": { format: "node-test", passed: 2, failed: 1, skipped: 1 },
  "node-test-junit-fail.xml": { format: "junit", passed: 4, failed: 1, skipped: 3 },
  "vitest-junit-fail.xml": { format: "junit", passed: 3, failed: 1, skipped: 2 },
  "pytest-junit-fail.xml": { format: "junit", passed: 3, failed: 1, skipped: 2 },
  "vitest-fail.txt": { format: "vitest", passed: 3, failed: 1, skipped: 2 },
  "vitest-pass.txt": { format: "vitest", passed: 2, failed: 0, skipped: 0 },
  // The broken file is a failed *suite*; vitest counts only the 2 tests that ran.
  "vitest-syntax-error.txt": { format: "vitest", passed: 2, failed: 0, skipped: 0 },
  "jest-fail.txt": { format: "jest", passed: 4, failed: 1, skipped: 2 },
  "jest-pass.txt": { format: "jest", passed: 2, failed: 0, skipped: 0 },
  "jest-syntax-error.txt": { format: "jest", passed: 2, failed: 0, skipped: 0 },
  "mocha-fail.txt": { format: "mocha", passed: 3, failed: 1, skipped: 2 },
  "mocha-pass.txt": { format: "mocha", passed: 2, failed: 0, skipped: 0 },
  // mocha's TAP prints "# tests 4" (skips left out); the points say 6.
  "mocha-tap-fail.txt": { format: "tap", passed: 3, failed: 1, skipped: 2 },
  // tape counts its skipped assertion as a pass ("# pass 3"); the points say 2 + 1 skip.
  "tape-fail.txt": { format: "tap", passed: 2, failed: 1, skipped: 1 },
  // TAP 14 (node-tap): 3 top-level points; the nested subtest is summarized by "not ok 1".
  "tap14-fail.txt": { format: "tap", passed: 1, failed: 1, skipped: 1 },
  "pytest-fail.txt": { format: "pytest", passed: 3, failed: 1, skipped: 2 },
  "pytest-pass-quiet.txt": { format: "pytest", passed: 1, failed: 0, skipped: 0 },
  "cargo-test-fail.txt": { format: "cargo", passed: 1, failed: 1, skipped: 1 },
  // Two test binaries (unit tests + doc-tests with 0 tests), summed.
  "cargo-test-pass.txt": { format: "cargo", passed: 2, failed: 0, skipped: 1 },
  "go-test-v-fail.txt": { format: "go", passed: 1, failed: 1, skipped: 1 },
  "go-test-v-pass.txt": { format: "go", passed: 2, failed: 0, skipped: 0 },
  // Without -v, go prints no lines for passing tests: not countable.
  "go-test-fail.txt": null,
  "tsc-errors.txt": null,
  "tsc-errors-pretty.txt": null,
  "npm-run-build-fail.txt": null,
  "npm-install-econnrefused.txt": null,
  "git-merge-conflict.txt": null,
  "node-heap-oom.txt": null,
  "cargo-build-error.txt": null,
  "go-build-error.txt": null,
};

describe("summarizeTestOutput on real runner output", () => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(name, () => {
      const got = summarizeTestOutput(fixture(name).text);
      if (expected === null) expect(got).toBeNull();
      else expect(got).toEqual({ ...expected, total: expected.passed + expected.failed + expected.skipped });
    });
  }
});

describe("summarizeTestOutput edge cases", () => {
  it("counts planned TAP points that never arrived as failed", () => {
    expect(summarizeTestOutput("TAP version 13\n1..4\nok 1 - a\nnot ok 2 - b\nBail out! db down\n")).toEqual({ format: "tap", passed: 1, failed: 3, skipped: 0, total: 4 });
  });
  it("treats not ok # TODO as not failed", () => {
    expect(summarizeTestOutput("1..2\nok 1 - a\nnot ok 2 - b # TODO later\n")).toEqual({ format: "tap", passed: 1, failed: 0, skipped: 1, total: 2 });
  });
  it("reads JUnit suite attributes when no test cases are listed", () => {
    const xml = '<?xml version="1.0"?><testsuites><testsuite name="a" tests="5" failures="1" errors="1" skipped="1"/></testsuites>';
    expect(summarizeTestOutput(xml)).toEqual({ format: "junit", passed: 2, failed: 2, skipped: 1, total: 5 });
  });
  it("ignores malformed XML and ANSI colour codes", () => {
    expect(summarizeTestOutput("<testsuite><testcase></testsuite>")).toBeNull();
    expect(summarizeTestOutput("\u001b[32mTests:\u001b[39m       \u001b[1m2 passed\u001b[22m, 2 total")).toEqual({ format: "jest", passed: 2, failed: 0, skipped: 0, total: 2 });
  });
  it("sums a summary printed twice (two suites in one command)", () => {
    const once = fixture("vitest-fail.txt").text;
    expect(summarizeTestOutput(once + once)).toMatchObject({ passed: 6, failed: 2, skipped: 4, total: 12 });
  });
  it("returns null for plain text", () => {
    expect(summarizeTestOutput("")).toBeNull();
    expect(summarizeTestOutput("all good\n")).toBeNull();
  });
});
