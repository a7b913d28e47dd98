/**
 * The built-in `anthropic` engine: the real agent process (real `@anthropic-ai/sdk`) in a real
 * lane worktree against the local model server, plus its adapter on bad input.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { startModelServer } from "../model-server/model-server";
import { AnthropicAgentAdapter, ANTHROPIC_AGENT_PATH } from "./anthropic-agent-engine";
import { ofKind, subjects, engineLanePerTest } from "./agent.testing";

const lane = engineLanePerTest("anthropic", (server) => ({ anthropicBaseUrl: server.url, anthropicApiKey: "the-right-key", anthropicRetryBaseMs: 5 }));

const call = (name: string, input: Record<string, unknown>) => ({ toolCalls: [{ name, input }] });

describe("anthropic engine: the built-in agent with the real SDK", () => {
  it("lists, reads, edits, writes and runs commands in the worktree, and commits", async () => {
    const run = await lane.run([
      { text: "Looking around.", toolCalls: [{ name: "list_files", input: {} }, { name: "read_file", input: { path: "README.md" } }] },
      call("edit_file", { path: "README.md", old_string: "# test repo", new_string: "# edited by the agent ($& stays literal)" }),
      call("write_file", { path: "src/deep/new.txt", content: "new\n" }),
      call("run_command", { argv: ["git", "add", "-A"] }),
      call("run_command", { argv: ["git", "commit", "-q", "-m", "agent change"] }),
      { text: "Committed." },
    ]);
    expect(run.exitCode).toBe(0);
    expect(await fs.readFile(path.join(lane.fx.worktree, "README.md"), "utf8")).toBe("# edited by the agent ($& stays literal)\n");
    expect(await subjects(lane.fx.repo, lane.fx.branch)).toEqual(["agent change", "initial commit"]);
    const results = ofKind(run.signals, "tool_result");
    expect(results.map((r) => r.isError)).toEqual([false, false, false, false, false, false]);
    expect(results[0]!.text).toBe("README.md");
    expect(results[1]!.text).toBe("# test repo\n");
    expect(run.signals[0]).toEqual({ kind: "ready", model: "claude-opus-4-8", cwd: await fs.realpath(lane.fx.worktree) });
    expect(ofKind(run.signals, "result")).toEqual([{ kind: "result", ok: true, turns: 6, text: "Committed." }]);
    const usage = ofKind(run.signals, "usage").at(-1)!;
    expect(usage.inputTokens).toBe(lane.server!.requests.reduce((n, r) => n + (r.usage?.inputTokens ?? 0), 0));
    expect(lane.server!.requests.map((r) => `${r.method} ${r.url} ${r.stream}`)).toEqual(Array(6).fill("POST /v1/messages true"));
    console.log(`[timing] anthropic agent 6-turn run: ${run.durationMs} ms`);
  });

  it("refuses paths outside the worktree, through symlinks and into .git, as tool errors the model sees", async () => {
    await fs.writeFile(path.join(lane.fx.dir, "secret.txt"), "secret\n");
    await fs.symlink(lane.fx.dir, path.join(lane.fx.worktree, "link-out"));
    const run = await lane.run([
      call("read_file", { path: "../../etc/passwd" }),
      call("read_file", { path: "/etc/passwd" }),
      call("read_file", { path: "link-out/secret.txt" }),
      call("write_file", { path: "link-out/planted.txt", content: "x" }),
      call("write_file", { path: ".git", content: "gitdir: /elsewhere\n" }),
      call("edit_file", { path: "../repo/README.md", old_string: "#", new_string: "!" }),
      call("list_files", { path: ".." }),
      { text: "Could not escape." },
    ]);
    expect(run.exitCode).toBe(0);
    const results = ofKind(run.signals, "tool_result");
    expect(results).toHaveLength(7);
    expect(results.every((r) => r.isError)).toBe(true);
    expect(results.map((r) => r.text)).toEqual([
      'path is outside the worktree: "../../etc/passwd"',
      'path is outside the worktree: "/etc/passwd"',
      'path is outside the worktree: "link-out/secret.txt"',
      'path is outside the worktree: "link-out/planted.txt"',
      'refusing to write inside .git: ".git"',
      'path is outside the worktree: "../repo/README.md"',
      'path is outside the worktree: ".."',
    ]);
    await expect(fs.access(path.join(lane.fx.dir, "planted.txt"))).rejects.toThrow();
    expect(await fs.readFile(path.join(lane.fx.repo, "README.md"), "utf8")).toBe("# test repo\n");
    // The model was told: every refusal went back as an is_error tool_result.
    expect(lane.server!.requests[1]!.toolResults).toEqual([{ text: 'path is outside the worktree: "../../etc/passwd"', isError: true }]);
  });

  it("reports command failures: non-zero exit, unknown program, timeout, ambiguous edit", async () => {
    await fs.writeFile(path.join(lane.fx.worktree, "twice.txt"), "a a\n");
    const run = await lane.run([
      call("run_command", { argv: ["sh", "-c", "echo out; echo err >&2; exit 3"] }),
      call("run_command", { argv: ["no-such-program-xyz"] }),
      call("run_command", { argv: ["sleep", "30"], timeout_ms: 300 }),
      call("edit_file", { path: "twice.txt", old_string: "a", new_string: "b" }),
      call("unknown_tool", {}),
      { text: "done" },
    ]);
    const results = ofKind(run.signals, "tool_result");
    expect(results.map((r) => r.isError)).toEqual([true, true, true, true, true]);
    expect(results[0]!.text).toBe("exit code 3\nout\nerr\n");
    expect(results[1]!.text).toMatch(/^could not start no-such-program-xyz: .*ENOENT/);
    expect(results[2]!.text).toMatch(/^timed out after 300 ms/);
    expect(results[3]!.text).toMatch(/occurs 2 times/);
    expect(results[4]!.text).toBe('unknown tool "unknown_tool"');
    expect(ofKind(run.signals, "result")[0]).toMatchObject({ ok: true });
  });

  it("retries 429 (honouring retry-after), 500, 529 and an error inside the stream with backoff, reporting each retry", async () => {
    const failures = [{ status: 429, retryAfterSec: 0 }, { status: 500 }, { status: 529 }, { status: 529, midStream: true }];
    const run = await lane.run([{ text: "finally", failures }]);
    expect(run.exitCode).toBe(0);
    expect(lane.server!.requests.map((r) => r.status)).toEqual([429, 500, 529, 200, 200]);
    expect(ofKind(run.signals, "warning").map((w) => w.message)).toEqual([
      "model API 429 rate_limit_error: scripted 429 rate_limit_error; retry 1/5 in 0 ms",
      "model API 500 api_error: scripted 500 api_error; retry 2/5 in 10 ms",
      "model API 529 overloaded_error: scripted 529 overloaded_error; retry 3/5 in 20 ms",
      "model API stream overloaded_error: scripted mid-stream overloaded_error; retry 4/5 in 40 ms",
    ]);
    expect(ofKind(run.signals, "result")[0]).toMatchObject({ ok: true, text: "finally" });
  });

  it("gives up after the retry limit on a persistent 500", async () => {
    const run = await lane.run([{ text: "never", failures: Array(5).fill({ status: 500 }) }], { anthropicMaxRetries: 2 });
    expect(run.exitCode).toBe(1);
    expect(lane.server!.requests).toHaveLength(3);
    expect(ofKind(run.signals, "result")).toEqual([{ kind: "result", ok: false, text: expect.stringMatching(/^model API error after 3 attempts: 500 api_error/), failureClass: "infra" }]);
  });

  it("fails at once with a clear message on a 401", async () => {
    const run = await lane.run([{ text: "never" }], { anthropicApiKey: "wrong" }, { apiKey: "the-right-key" });
    expect(run.exitCode).toBe(1);
    expect(lane.server!.requests).toHaveLength(1);
    expect(ofKind(run.signals, "result")).toEqual([{ kind: "result", ok: false, text: expect.stringMatching(/rejected the credentials \(401 .*\); check ANTHROPIC_API_KEY/), failureClass: "provider_auth" }]);
  });

  it("stops at the turn limit as budget_exceeded, and exits 2 on a bad task file", async () => {
    const server = await startModelServer({ script: [{ name: "loop", turns: Array(5).fill(call("list_files", {})) }] });
    lane.server = server;
    const task = path.join(lane.fx.dir, "task.json");
    await fs.writeFile(task, JSON.stringify({ prompt: "loop", maxTurns: 2 }));
    const env = { ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: "k" };
    const looped = await execa(process.execPath, [ANTHROPIC_AGENT_PATH, task], { cwd: lane.fx.worktree, env, reject: false });
    expect(looped.exitCode).toBe(1);
    expect(JSON.parse(String(looped.stdout).trim().split("\n").at(-1)!)).toEqual({ kind: "result", ok: false, text: "stopped after 2 turns without finishing", failureClass: "budget_exceeded" });
    await fs.writeFile(task, "{not json");
    const bad = await execa(process.execPath, [ANTHROPIC_AGENT_PATH, task], { cwd: lane.fx.worktree, env, reject: false });
    expect(bad.exitCode).toBe(2);
    expect(JSON.parse(String(bad.stdout).trim())).toMatchObject({ kind: "result", ok: false, text: expect.stringMatching(/^bad task/) });
  });
});

describe("AnthropicAgentAdapter", () => {
  it("passes valid signals through and turns anything else into warnings", () => {
    const a = new AnthropicAgentAdapter();
    expect(a.feed('{"kind":"tool_use","name":"read_file","input":{"path":"a"},"id":"t1"}')).toEqual([{ kind: "tool_use", name: "read_file", input: { path: "a" }, id: "t1" }]);
    expect(a.feed("Segmentation fault")).toMatchObject([{ kind: "warning", message: expect.stringMatching(/^not JSON/) }]);
    expect(a.feed('{"kind":"usage","inputTokens":1')).toMatchObject([{ kind: "warning", message: expect.stringMatching(/^truncated/) }]);
    expect(a.feed('{"kind":"teleport"}')).toMatchObject([{ kind: "warning", message: 'unknown signal kind "teleport"' }]);
    expect(a.feed('{"kind":"usage","inputTokens":"many"}')).toMatchObject([{ kind: "warning", message: expect.stringMatching(/^malformed usage signal/) }]);
    expect(a.feed('{"kind":"result","ok":false,"text":"x","failureClass":"not-a-class"}')).toMatchObject([{ kind: "warning", message: expect.stringMatching(/^malformed result/) }]);
    expect(a.end({ exitCode: null, signal: "SIGKILL" })).toEqual([{ kind: "result", ok: false, text: "anthropic agent was killed by SIGKILL without a result", failureClass: "killed" }]);
    const b = new AnthropicAgentAdapter();
    expect(b.feed('{"kind":"result","ok":true,"turns":1,"text":"done"}')).toEqual([{ kind: "result", ok: true, turns: 1, text: "done" }]);
    expect(b.end({ exitCode: 0, signal: null })).toEqual([]);
  });
});
