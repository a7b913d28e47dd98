import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { warnings } from "./agent.testing";
import { CODEX_API_KEY_ENV, CodexJsonAdapter, codexArgv } from "./codex";
import type { EngineSignal } from "./engine-events";

/** Recorded from codex-cli 0.169.0 (`exec --json`, model gpt-5.5) against the model server. */
const RECORDED = fs.readFileSync(new URL("./fixtures/codex-exec.jsonl", import.meta.url), "utf8").split("\n");

function feedAll(lines: string[], exit = { exitCode: 0 as number | null, signal: null as string | null }): EngineSignal[] {
  const a = new CodexJsonAdapter();
  return [...lines.flatMap((l) => a.feed(l)), ...a.end(exit)];
}

describe("codexArgv", () => {
  it("runs exec --json with the prompt from stdin and a custom Responses provider for a base URL", () => {
    const argv = codexArgv({ bin: ["node", "codex.js"], model: "gpt-5.5", baseUrl: 'http://127.0.0.1:4010/v1?x="y"', requestMaxRetries: 1 });
    expect(argv.slice(0, 12)).toEqual(["node", "codex.js", "exec", "--json", "--color", "never", "--sandbox", "workspace-write", "-c", "sandbox_workspace_write.exclude_slash_tmp=true", "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true"]);
    expect(argv.at(-1)).toBe("-");
    const overrides = argv.flatMap((a, i) => (argv[i - 1] === "-c" ? [a] : []));
    expect(overrides.slice(2)).toEqual([
      'model_provider="laneboard"',
      'model_providers.laneboard.name="Laneboard"',
      'model_providers.laneboard.base_url="http://127.0.0.1:4010/v1?x=\\"y\\""',
      'model_providers.laneboard.wire_api="responses"',
      `model_providers.laneboard.env_key="${CODEX_API_KEY_ENV}"`,
      "model_providers.laneboard.request_max_retries=1",
      "model_providers.laneboard.stream_max_retries=1",
    ]);
  });

  it("uses OpenAI itself without a base URL, and passes the sandbox and writable dirs", () => {
    expect(codexArgv({ bin: ["codex"], sandbox: "danger-full-access", writableDirs: ["/d"] })).toEqual([
      "codex", "exec", "--json", "--color", "never", "--sandbox", "danger-full-access", "--add-dir", "/d", "-",
    ]);
  });
});

describe("CodexJsonAdapter on recorded output", () => {
  it("turns a real run into ready, message, commands, a file change, usage and the result", () => {
    const signals = feedAll(RECORDED);
    expect(signals.map((s) => s.kind)).toEqual(["ready", "message", "tool_use", "tool_result", "tool_use", "tool_result", "tool_use", "tool_result", "message", "usage", "result"]);
    expect(signals[2]).toMatchObject({ kind: "tool_use", name: "command", input: { command: expect.stringContaining("echo hello > hello.txt") } });
    expect(signals[3]).toMatchObject({ kind: "tool_result", isError: false, id: "item_1" });
    expect(signals[5]).toMatchObject({ kind: "tool_result", isError: true, text: expect.stringContaining("No such file") });
    expect(signals[6]).toMatchObject({ kind: "tool_use", name: "file_change", input: { changes: [{ kind: "add", path: expect.stringMatching(/b\.txt$/) }] } });
    expect(signals[9]).toEqual({ kind: "usage", inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
    expect(signals[10]).toEqual({ kind: "result", ok: true, turns: 1, text: "Done: hello.txt created." });
  });

  it("fails the run on turn.failed, and on an exit without any completed turn", () => {
    const failed = feedAll([RECORDED[0]!, '{"type":"turn.started"}', '{"type":"error","message":"Reconnecting... 1/5"}', '{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized"}}'], { exitCode: 1, signal: null });
    expect(failed.slice(1)).toEqual([
      { kind: "warning", message: "codex: Reconnecting... 1/5", line: expect.any(String) },
      { kind: "result", ok: false, turns: 1, text: "unexpected status 401 Unauthorized", failureClass: "provider_auth" },
    ]);
    const overloaded = feedAll([RECORDED[0]!, '{"type":"turn.failed","error":{"message":"unexpected status 500 Internal Server Error"}}'], { exitCode: 1, signal: null });
    expect(overloaded.at(-1)).toMatchObject({ kind: "result", ok: false, failureClass: "infra" });
    expect(feedAll(RECORDED.slice(0, 3), { exitCode: 0, signal: null }).at(-1)).toEqual({ kind: "result", ok: false, text: "codex exited with code 0 without a result", failureClass: "tool_runtime" });
  });
});

describe("CodexJsonAdapter on bad and unusual input", () => {
  it("never throws: not JSON, truncated JSON, unknown events and items become warnings", () => {
    const a = new CodexJsonAdapter();
    const out = [
      "Reading prompt from stdin...",
      '{"type":"item.completed","item":{"id":"i","type":"agent_mess',
      '{"type":"thread.forked","thread_id":"x"}',
      '{"type":"item.completed","item":{"id":"i9","type":"hologram"}}',
      '{"type":"item.completed","item":{"id":"i0","type":"error","message":"Model metadata for `m` not found."}}',
      '{"type":"turn.completed"}',
      '{"type":"item.completed"}',
      '{"type":"item.completed","item":{"id":"r","type":"reasoning","text":"thinking"}}',
    ].map((l) => a.feed(l));
    expect(out).toEqual([
      ...warnings(
        /^not JSON/,
        /^truncated/,
        'unknown event type "thread.forked"',
        'unknown item type "hologram"',
        "codex: Model metadata for `m` not found.",
        "turn.completed without usage",
        "unknown item type undefined",
      ),
      [],
    ]);
  });

  it("emits a tool_use once per item even when only item.completed arrives, and sums usage over turns", () => {
    const signals = feedAll([
      '{"type":"item.completed","item":{"id":"f","type":"file_change","changes":[{"path":"a","kind":"update"}],"status":"failed"}}',
      '{"type":"turn.completed","usage":{"input_tokens":10,"output_tokens":2}}',
      '{"type":"item.started","item":{"id":"m","type":"mcp_tool_call","server":"s","tool":"t","arguments":{"q":1},"status":"in_progress"}}',
      '{"type":"item.completed","item":{"id":"m","type":"mcp_tool_call","server":"s","tool":"t","arguments":{"q":1},"result":{"ok":1},"status":"completed"}}',
      '{"type":"turn.completed","usage":{"input_tokens":5,"output_tokens":1}}',
    ]);
    expect(signals).toEqual([
      { kind: "tool_use", name: "file_change", input: { changes: [{ path: "a", kind: "update" }] }, id: "f" },
      { kind: "tool_result", isError: true, text: "update a", id: "f" },
      { kind: "usage", inputTokens: 10, outputTokens: 2 },
      { kind: "tool_use", name: "s.t", input: { q: 1 }, id: "m" },
      { kind: "tool_result", isError: false, text: '{"ok":1}', id: "m" },
      { kind: "usage", inputTokens: 15, outputTokens: 3 },
      { kind: "result", ok: true, turns: 2, text: "" },
    ]);
  });
});
