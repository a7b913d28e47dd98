/**
 * Failure classification: a failed check or worker → one class of the taxonomy in
 * `lib/lane-state.ts` (docs/domain.md, "Failure taxonomy"), a stable `reason` key, a one-line summary, and the few
 * output lines that decided it. Pure: exit status and output in, verdict out.
 *
 * Rules are tried in order ({@link FAILURE_RULES}); the first that matches wins. The order is
 * the point: a killed or out-of-memory process often leaves test failures behind (infra beats
 * test); a suite that reports failing tests may also print ECONNREFUSED from the code under test
 * (test beats network); a compile error usually stops the runner before it counts anything.
 * Each pattern was checked against real output captured in `fixtures/` (README there).
 *
 * Callers: pass `killRequested` when Laneboard itself killed the process (timeout, kill button,
 * policy) so a SIGKILL is `killed`, and `oomKilled` only with evidence of the OOM killer (else a
 * SIGKILL is `killed_from_outside`, never a guess); pass the worker's `prompt`
 * so a prompt typed into a shell is recognized (its first word comes back as "command not
 * found"). Only the last {@link MAX_ANALYZED_CHARS} of output are read.
 */
import { stripVTControlCharacters } from "node:util";
import type { FailureClass } from "@/lib/lane-state";
import { summarizeTestOutput, type TestSummary } from "./test-summary";

export interface FailureInput {
  exitCode: number | null;
  signal: string | null;
  /** The process's output (stdout and stderr, ideally interleaved); ANSI codes are fine. */
  output: string;
  role: "worker" | "check";
  command: string[];
  /** The prompt delivered to the worker, if any: enables `prompt_delivery` detection. */
  prompt?: string;
  /** True when Laneboard asked for the kill (timeout, kill button, policy). */
  killRequested?: boolean;
  /**
   * Evidence that a SIGKILL came from the OOM killer (the cgroup's counter or the kernel log, see
   * server/processes/oom.ts). Without it a SIGKILL is one from outside, never "probably OOM".
   */
  oomKilled?: string | null;
  /** The process's supervising wrapper was killed (it left no status) and its command stopped. */
  wrapperDied?: boolean;
  /** True when Laneboard killed it because it ran past its time limit (implies killRequested). */
  timedOut?: boolean;
  /** The time limit that was exceeded, in ms (for the summary). */
  timeoutMs?: number;
}

export const FAILURE_REASONS = [
  "timed_out",
  "kill_requested",
  "trust_prompt",
  "prompt_in_shell",
  "out_of_memory",
  "killed_from_outside",
  "disk_full",
  "merge_conflict",
  "push_rejected",
  "branch_diverged",
  "branch_behind",
  "auth_rejected",
  "rate_limited",
  "tests_failed",
  "typescript",
  "rust_compile",
  "go_compile",
  "bundler",
  "syntax_error",
  "module_not_found",
  "network",
  "command_not_found",
  "test_failure_uncounted",
  "crashed_by_signal",
  "check_failed",
  "worker_failed",
] as const;
/** A stable key for what went wrong; finer than the failure class (e.g. infra → rate_limited). */
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface FailureClassification {
  failureClass: FailureClass;
  reason: FailureReason;
  /** One human sentence, e.g. "3 TypeScript errors (TS2322, TS2307, TS2552)". */
  summary: string;
  /** The deciding lines (at most {@link MAX_EVIDENCE_LINES}, each at most {@link MAX_EVIDENCE_CHARS} chars). */
  evidence: string[];
  /** Counts when the output held a known test summary. */
  tests: TestSummary | null;
}

/** A classified failure: from classifyFailure, or a git problem (server/git/problems.ts), whose reasons are strings too. */
export type FailureLike = Omit<Pick<FailureClassification, "failureClass" | "reason" | "summary" | "evidence">, "reason"> & { reason: string };

export const MAX_ANALYZED_CHARS = 1 << 20;
export const MAX_EVIDENCE_LINES = 8;
export const MAX_EVIDENCE_CHARS = 300;

interface Context {
  input: FailureInput;
  lines: string[];
  tests: TestSummary | null;
}

export interface FailureRule {
  reason: FailureReason;
  failureClass: FailureClass | ((ctx: Context) => FailureClass);
  roles?: ReadonlyArray<FailureInput["role"]>;
  /** Matching lines (evidence) or null when the rule does not apply. */
  match: (ctx: Context) => string[] | null;
  summary: (ctx: Context, evidence: string[]) => string;
}

/** Classify one failure. Never throws. */
export function classifyFailure(input: FailureInput): FailureClassification {
  const text = stripVTControlCharacters(input.output.slice(-MAX_ANALYZED_CHARS));
  const ctx: Context = { input, lines: text.split(/\r?\n/).map((l) => l.trimEnd()), tests: summarizeTestOutput(text) };
  for (const rule of FAILURE_RULES) {
    if (rule.roles && !rule.roles.includes(input.role)) continue;
    const found = rule.match(ctx);
    if (!found) continue;
    const evidence = headAndTail([...new Set(found)]);
    const failureClass = typeof rule.failureClass === "function" ? rule.failureClass(ctx) : rule.failureClass;
    return { failureClass, reason: rule.reason, summary: rule.summary(ctx, evidence), evidence, tests: ctx.tests };
  }
  // FAILURE_RULES ends with catch-alls for both roles.
  throw new Error("unreachable: no failure rule matched");
}

/** At most MAX_EVIDENCE_LINES: the first ones and the last 3 (retry loops repeat; the end says how it ended). */
function headAndTail(lines: string[]): string[] {
  if (lines.length <= MAX_EVIDENCE_LINES) return lines;
  return [...lines.slice(0, MAX_EVIDENCE_LINES - 3), ...lines.slice(-3)];
}

/** Lines matching any of `patterns`, cut to an excerpt around the match; null if none. */
function grep(lines: readonly string[], patterns: readonly RegExp[]): string[] | null {
  const out: string[] = [];
  for (const line of lines) {
    for (const re of patterns) {
      const m = re.exec(line);
      if (m) {
        out.push(excerpt(line, m.index));
        break;
      }
    }
  }
  return out.length ? out : null;
}

/** At most MAX_EVIDENCE_CHARS of `line`, from a little before `at` (long JSON lines), "…" where cut. */
function excerpt(line: string, at: number): string {
  const s = line.trim();
  if (s.length <= MAX_EVIDENCE_CHARS) return s;
  const lead = line.length - line.trimStart().length;
  const start = Math.max(0, Math.min(at - lead - 40, s.length - (MAX_EVIDENCE_CHARS - 2)));
  const body = s.slice(start, start + MAX_EVIDENCE_CHARS - 2);
  return (start > 0 ? "…" : "") + body + (start + body.length < s.length ? "…" : "");
}

function exitLine({ exitCode, signal }: FailureInput): string {
  return signal ? `exit: signal ${signal}` : `exit: code ${exitCode}`;
}

/** A rule that fires when any pattern matches a line. */
function byPatterns(reason: FailureReason, failureClass: FailureClass, patterns: RegExp[], summary: string, roles?: FailureRule["roles"]): FailureRule {
  return { reason, failureClass, roles, match: (ctx) => grep(ctx.lines, patterns), summary: () => summary };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** First word of each prompt line, as a shell would read it as a command name. */
function promptCommandWords(prompt: string): string[] {
  return [...new Set(prompt.split(/\r?\n/).map((l) => l.trim().split(/\s+/)[0] ?? "").filter((w) => w.length > 0))];
}

/** Lines naming a runner's failing tests (node spec/TAP, vitest, jest, mocha, pytest, go, cargo). */
const FAILING_TEST_LINES = [
  /^\s*✖ (?!failing tests:)/,
  /^\s*not ok \d+/,
  /^\s+× /,
  /^ ?FAIL\s/,
  /^\s*● .+ › /,
  /^\s+\d+\) \S/,
  /^FAILED \S/,
  /^--- FAIL: /,
  /^test \S+ \.\.\. FAILED$/,
  /<failure\b/,
];
/** Summary lines of the same runners. */
const TEST_SUMMARY_LINES = [/^(?:#|ℹ) (?:pass|fail) \d+$/, /^\s*Tests\s{2,}\S/, /^Tests:\s/, /^=*\s*\d+ \w+.* in [\d.]+s\b/, /^test result: /, /^\s+\d+ (?:passing|failing)\b/, /<testsuites?\b[^>]*\bfailures="[1-9]/];

const NETWORK_CODES = /\b(?:ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EHOSTUNREACH|ENETUNREACH)\b/;

/**
 * The rules, in the order they are tried. Exported so the board and docs can list them.
 * Add a rule only with a real output fixture that it decides.
 */
export const FAILURE_RULES: readonly FailureRule[] = [
  {
    // A hung check or worker: its process group was killed at the deadline. Infra, not a red
    // test: nothing finished, and the last lines say where it hung.
    reason: "timed_out",
    failureClass: "infra",
    match: (ctx) => (ctx.input.timedOut ? [exitLine(ctx.input), ...ctx.lines.filter((l) => l.trim()).slice(-3)] : null),
    summary: (ctx) => `timed out${ctx.input.timeoutMs ? ` after ${ctx.input.timeoutMs} ms` : ""}; its process group was killed`,
  },
  {
    reason: "kill_requested",
    failureClass: "killed",
    match: (ctx) => (ctx.input.killRequested ? [exitLine(ctx.input)] : null),
    summary: () => "stopped on request (kill, timeout or policy)",
  },
  // Claude Code's folder-trust screen (2.1.x); the worker waits on it forever.
  byPatterns("trust_prompt", "trust_gate", [/Is this a project you created or one you trust\?/, /Yes, I trust this folder/], "the worker is waiting on a folder-trust prompt"),
  {
    reason: "prompt_in_shell",
    failureClass: "prompt_delivery",
    match: (ctx) => {
      const words = ctx.input.prompt ? promptCommandWords(ctx.input.prompt) : [];
      if (words.length === 0) return null;
      const alt = words.map(escapeRe).join("|");
      // bash: "bash: line 1: Fix: command not found"; dash: "sh: 1: Fix: not found"; zsh: "zsh: command not found: Fix"
      return grep(ctx.lines, [new RegExp(`(?:^|: )(?:${alt}): (?:command )?not found$`), new RegExp(`command not found: (?:${alt})$`)]);
    },
    summary: () => "the prompt was typed into a shell: its first word ran as a command",
  },
  {
    reason: "out_of_memory",
    failureClass: "infra",
    match: (ctx) => {
      const lines = grep(ctx.lines, [/JavaScript heap out of memory/, /^FATAL ERROR: .*Allocation failed/, /^MemoryError\b/]);
      const oom = ctx.input.oomKilled ? [exitLine(ctx.input), `OOM killer: ${ctx.input.oomKilled}`] : [];
      return lines || oom.length ? [...oom, ...(lines ?? [])] : null;
    },
    summary: (ctx) =>
      ctx.input.oomKilled
        ? `killed by the out-of-memory killer (${ctx.input.oomKilled})`
        : "out of memory (the runtime's allocation failed)",
  },
  // A SIGKILL nobody in Laneboard asked for and the OOM killer did not send: a person or another
  // program. Before test counts, like OOM: a killed run's half-printed failures mean nothing.
  {
    reason: "killed_from_outside",
    failureClass: (ctx) => (ctx.input.role === "worker" ? "tool_runtime" : "infra"),
    match: (ctx) => (ctx.input.signal === "SIGKILL" || ctx.input.exitCode === 137 ? [exitLine(ctx.input)] : null),
    summary: (ctx) =>
      ctx.input.wrapperDied
        ? "its supervising wrapper was killed by SIGKILL from outside Laneboard; the command was stopped"
        : `killed by SIGKILL from outside Laneboard (${exitLine(ctx.input)}); neither the kernel log nor a cgroup counter shows an out-of-memory kill`,
  },
  byPatterns("disk_full", "infra", [/\bENOSPC\b/, /No space left on device/], "no space left on device"),
  byPatterns("merge_conflict", "branch_divergence", [/^CONFLICT \(/, /^Automatic merge failed/, /^(?:error: c|C)ould not apply [0-9a-f]+/], "merge conflict with the base branch"),
  byPatterns("push_rejected", "branch_divergence", [/^\s*! \[rejected\].*\((?:non-fast-forward|fetch first)\)/, /^hint: Updates were rejected because/], "push rejected: the remote branch has commits this one lacks"),
  byPatterns("branch_diverged", "branch_divergence", [/^Your branch and '.+' have diverged/, /^fatal: Need to specify how to reconcile divergent branches/, /^fatal: Not possible to fast-forward/], "the branch has diverged from its upstream"),
  byPatterns("branch_behind", "branch_divergence", [/^Your branch is behind '.+' by \d+ commits?/], "the branch is behind its upstream"),
  // Engines only (a check whose test prints "401" is still a test): the model API rejected the
  // key. Claude Code's result line and synthetic message, Codex's turn error, the built-in agent.
  byPatterns(
    "auth_rejected",
    "provider_auth",
    [/"api_error_status":\s*40[13]\b/, /"error":\s*"authentication_failed"/, /\bunexpected status 40[13] (?:Unauthorized|Forbidden)\b/, /\bauthentication_error\b/, /rejected the credentials \(40[13]\b/],
    "the model API rejected the engine's credentials (HTTP 401/403): fix the API key; a restart will not",
    ["worker"],
  ),
  // Engines only: a test named "rate limit …" failing must stay a test failure.
  byPatterns(
    "rate_limited",
    "infra",
    [/"(?:api_)?error_status":\s*429\b/, /Request rejected \(429\)/, /\brate_limit_error\b/, /"error":\s*"rate_limit"/, /\b429 Too Many Requests\b/],
    "the engine is rate-limited (HTTP 429)",
    ["worker"],
  ),
  {
    reason: "tests_failed",
    failureClass: "test",
    roles: ["check"],
    match: (ctx) => {
      if (!ctx.tests || ctx.tests.failed === 0) return null;
      const failing = grep(ctx.lines, FAILING_TEST_LINES) ?? [];
      const summaries = grep(ctx.lines, TEST_SUMMARY_LINES) ?? [];
      return [...new Set(failing)].slice(0, MAX_EVIDENCE_LINES - 2).concat(summaries.slice(-2));
    },
    summary: (ctx) => `${ctx.tests!.failed} of ${ctx.tests!.total} tests failed (${ctx.tests!.format})`,
  },
  {
    reason: "typescript",
    failureClass: "compile",
    match: (ctx) => grep(ctx.lines, [/\berror TS\d+:/, /^Found \d+ errors? in /]),
    summary: (_ctx, ev) => {
      const codes = [...new Set(ev.flatMap((l) => l.match(/\bTS\d+\b/g) ?? []))];
      const n = ev.filter((l) => /\berror TS\d+:/.test(l)).length;
      return `${n} TypeScript error${n === 1 ? "" : "s"} (${codes.join(", ")})`;
    },
  },
  byPatterns("rust_compile", "compile", [/^error\[E\d{4}\]: /, /^error: could not compile `/], "Rust compile error"),
  byPatterns("go_compile", "compile", [/^\S+\.go:\d+:\d+: /, /\[build failed\]$/], "Go build error"),
  // esbuild ("✘ [ERROR]"), webpack ("ERROR in", "Module parse failed", "compiled with N errors").
  byPatterns(
    "bundler",
    "compile",
    [/^[✘X] \[ERROR\] /, /^ERROR in /, /^Module parse failed: /, /^Module not found: Error: /, /\bcompiled with \d+ errors?\b/],
    "bundler error",
  ),
  byPatterns(
    "syntax_error",
    "compile",
    [/^\s*SyntaxError: (?!.*\bJSON\b)/, /\[PARSE_ERROR\]/, /^Error: Transform failed with \d+ error/, /Jest encountered an unexpected token/, /^IndentationError: /],
    "syntax error",
  ),
  byPatterns("module_not_found", "compile", [/Cannot find (?:module|package) ['"]/, /\bERR_MODULE_NOT_FOUND\b/, /^ModuleNotFoundError: /], "a module could not be found"),
  byPatterns("network", "infra", [NETWORK_CODES, /^npm (?:ERR!|error) network\b/, /^npm (?:ERR!|error) code FETCH_ERROR$/], "network failure"),
  {
    reason: "command_not_found",
    failureClass: "infra",
    match: (ctx) => {
      // bash "bash: line 1: x: command not found", dash "sh: 1: x: not found", zsh "zsh: command not found: x"
      const lines = grep(ctx.lines, [/^[\w/.-]*sh: (?:line \d+: |\d+: )?\S+: (?:command )?not found$/, /^zsh: command not found: /, /\bspawn \S+ ENOENT\b/]);
      if (lines) return lines;
      return ctx.input.exitCode === 127 ? [exitLine(ctx.input)] : null;
    },
    summary: () => "a command was not found (exit 127 or ENOENT)",
  },
  byPatterns("test_failure_uncounted", "test", [...FAILING_TEST_LINES, /\bAssertionError\b/], "tests failed", ["check"]),
  {
    reason: "crashed_by_signal",
    failureClass: (ctx) => (ctx.input.role === "check" ? "test" : "tool_runtime"),
    match: (ctx) => (ctx.input.signal ? [exitLine(ctx.input)] : null),
    summary: (ctx) => `crashed with ${ctx.input.signal}`,
  },
  {
    reason: "check_failed",
    failureClass: "test",
    roles: ["check"],
    match: (ctx) => [exitLine(ctx.input), ...ctx.lines.filter((l) => l.trim()).slice(-3)],
    summary: (ctx) => `check ${ctx.input.command.join(" ")} failed (${exitLine(ctx.input)})`,
  },
  {
    reason: "worker_failed",
    failureClass: "tool_runtime",
    roles: ["worker"],
    match: (ctx) => [exitLine(ctx.input), ...ctx.lines.filter((l) => l.trim()).slice(-3)],
    summary: (ctx) => `worker exited unexpectedly (${exitLine(ctx.input)})`,
  },
];
