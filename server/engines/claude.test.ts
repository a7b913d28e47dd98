import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { warnings } from "./agent.testing";
import { ClaudeStreamAdapter, claudeArgv } from "./claude";
import type { EngineSignal } from "./engine-events";

/** Recorded from Claude Code 2.1.197 (`-p --output-format stream-json --verbose`) against the model server. */
const RECORDED = fs.readFileSync(new URL("./fixtures/claude-stream.jsonl", import.meta.url), "utf8").split("\n");

function feedAll(lines: string[], exit = { exitCode: 0, signal: null }): EngineSignal[] {
  const a = new ClaudeStreamAdapter();
  return [...lines.flatMap((l) => a.feed(l)), ...a.end(exit)];
}

describe("claudeArgv", () => {
  it("runs headless with stream-json, edits by permission mode, named tools, no prompt argument", () => {
    expect(claudeArgv({ bin: ["/x/claude"] })).toEqual([
      "/x/claude", "-p", "--output-format", "stream-json", "--verbose",
      "--permission-mode", "acceptEdits", "--allowedTools", "Bash,Read,Glob,Grep,TodoWrite",
    ]);
    expect(claudeArgv({ bin: ["c"], model: "m", maxTurns: 3, allowedTools: ["Read"], extraArgs: ["--max-budget-usd", "1"] }).slice(5)).toEqual([
      "--permission-mode", "acceptEdits", "--allowedTools", "Read", "--model", "m", "--max-turns", "3", "--max-budget-usd", "1",
    ]);
  });
});

describe("ClaudeStreamAdapter on recorded output", () => {
  it("turns a real run into ready, messages, tool calls and results, usage and the result", () => {
    const signals = feedAll(RECORDED);
    expect(signals.map((s) => s.kind)).toEqual(["ready", "message", "tool_use", "tool_result", "tool_use", "tool_result", "message", "usage", "result"]);
    expect(signals[0]).toEqual({ kind: "ready", sessionId: expect.any(String), model: expect.stringContaining("claude"), cwd: expect.stringMatching(/\/wt$/) });
    expect(signals[2]).toMatchObject({ kind: "tool_use", name: "Bash", input: { command: "echo hello > hello.txt" }, id: expect.stringMatching(/^toolu_/) });
    expect(signals[3]).toMatchObject({ kind: "tool_result", isError: false, id: (signals[2] as { id: string }).id });
    expect(signals[5]).toMatchObject({ kind: "tool_result", isError: true, text: expect.stringContaining("No such file") });
    expect(signals[7]).toEqual({ kind: "usage", inputTokens: expect.any(Number), outputTokens: expect.any(Number), costUsd: expect.any(Number) });
    expect(signals[8]).toEqual({ kind: "result", ok: true, turns: 3, costUsd: expect.any(Number), text: "Done: hello.txt created." });
  });

  it("reports a run that ended without a result line", () => {
    const signals = feedAll(RECORDED.slice(0, 3), { exitCode: 1, signal: null } as never);
    expect(signals.at(-1)).toEqual({ kind: "result", ok: false, text: "claude exited with code 1 without a result", failureClass: "tool_runtime" });
    const killed = feedAll(RECORDED.slice(0, 1), { exitCode: null, signal: "SIGTERM" } as never);
    expect(killed.at(-1)).toMatchObject({ ok: false, failureClass: "killed", text: expect.stringContaining("SIGTERM") });
  });
});

describe("ClaudeStreamAdapter on bad and unusual input", () => {
  it("never throws: not JSON, truncated JSON, unknown types and odd shapes become warnings", () => {
    const a = new ClaudeStreamAdapter();
    const lines = [
      "Warning: no stdin data received in 3s",
      RECORDED[1]!.slice(0, 60),
      '{"type":"telemetry_blob","x":1}',
      '{"no_type":true}',
      '{"type":"assistant","message":"not an object"}',
      '{"type":"assistant"}',
      '{"type":"user","message":{"content":[{"type":"tool_result","content":[{"type":"text","text":"a"},{"type":"image"}]}]}}',
      '{"type":"rate_limit_event","rate_limit_info":{}}',
      '{"type":"system","subtype":"hook_started"}',
    ];
    const out = lines.map((l) => a.feed(l));
    expect(out).toEqual([
      ...warnings(
        /^not JSON/,
        /^truncated/,
        'unknown event type "telemetry_blob"',
        "unknown event type undefined",
        "assistant line without message content",
        "assistant line without message content",
      ),
      [{ kind: "tool_result", isError: false, text: "a" }],
      [],
      [],
    ]);
  });

  it("maps an API retry to a warning, a 401 result to provider_auth (a restart sends the same key) and a 529 to infra", () => {
    const signals = feedAll(
      [
        '{"type":"system","subtype":"api_retry","attempt":1,"max_retries":1,"retry_delay_ms":500,"error_status":401,"error":"authentication_failed"}',
        '{"type":"result","subtype":"success","is_error":true,"api_error_status":401,"num_turns":1,"result":"Invalid API key · Fix external API key","total_cost_usd":0,"usage":{"input_tokens":0,"output_tokens":0},"modelUsage":{},"permission_denials":[]}',
      ],
      { exitCode: 1, signal: null } as never,
    );
    expect(signals).toEqual([
      { kind: "warning", message: "model API retry 1/1 after status 401", line: expect.any(String) },
      { kind: "usage", inputTokens: 0, outputTokens: 0, costUsd: 0 },
      { kind: "result", ok: false, turns: 1, costUsd: 0, text: "Invalid API key · Fix external API key", failureClass: "provider_auth" },
    ]);
    const overloaded = feedAll(['{"type":"result","subtype":"success","is_error":true,"api_error_status":529,"num_turns":1,"result":"Overloaded","total_cost_usd":0}'], { exitCode: 1, signal: null } as never);
    expect(overloaded.at(-1)).toMatchObject({ kind: "result", ok: false, failureClass: "infra" });
  });

  it("classifies turn and budget limits, reports permission denials, and sums modelUsage", () => {
    const signals = feedAll([
      JSON.stringify({
        type: "result", subtype: "error_max_turns", is_error: true, num_turns: 3, errors: ["Reached maximum number of turns (3)"],
        total_cost_usd: 0.5, usage: { input_tokens: 1, output_tokens: 1 },
        modelUsage: { a: { inputTokens: 10, outputTokens: 2, cacheReadInputTokens: 5, cacheCreationInputTokens: 1 }, b: { inputTokens: 4, outputTokens: 1 } },
        permission_denials: [{ tool_name: "Write", tool_use_id: "t1", tool_input: { file_path: "/etc/x" } }],
      }),
    ]);
    expect(signals).toEqual([
      { kind: "warning", message: "permission denied for Write", line: expect.stringContaining("/etc/x") },
      { kind: "usage", inputTokens: 20, outputTokens: 3, costUsd: 0.5 },
      { kind: "result", ok: false, turns: 3, costUsd: 0.5, text: "Reached maximum number of turns (3)", failureClass: "budget_exceeded" },
    ]);
  });

  it("warns when a successful run exits non-zero", () => {
    const ok = RECORDED.filter((l) => l.includes('"type":"result"'));
    expect(feedAll(ok, { exitCode: 2, signal: null } as never).at(-1)).toMatchObject({ kind: "warning", message: "claude exited with code 2 after a successful result" });
  });
});
