/**
 * The `claude` engine end to end: the real Claude Code CLI (npm dev dependency) in a real lane
 * worktree, talking to the local model server, whose scripted model asks for real tools.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ModelServer } from "../model-server/model-server";
import { git } from "../git/runner";
import { ofKind, subjects, engineLanePerTest } from "./agent.testing";

const lane = engineLanePerTest("claude", (server) => ({ anthropicBaseUrl: server.url }));

const sumUsage = (s: ModelServer) => s.requests.reduce((n, r) => n + (r.usage?.inputTokens ?? 0), 0);

describe("claude engine with the real Claude Code CLI", () => {
  it("runs a scripted Bash tool call that makes a real commit in the worktree", async () => {
    const run = await lane.run([
      { text: "I'll add the file and commit it.", toolCalls: [{ name: "Bash", input: { command: "echo hello > hello.txt && git add hello.txt && git commit -q -m 'add hello'", description: "commit" } }] },
      { text: "Committed hello.txt." },
    ]);
    expect(run.exitCode).toBe(0);
    expect(await subjects(lane.fx.repo, lane.fx.branch)).toEqual(["add hello", "initial commit"]);
    const author = (await git(["log", "-1", "--format=%an <%ae>", "--end-of-options", lane.fx.branch], { cwd: lane.fx.repo })).stdout;
    expect(author).toBe("Laneboard claude agent <claude-agent@laneboard.invalid>");
    expect(run.signals.map((s) => s.kind)).toEqual(["ready", "message", "tool_use", "tool_result", "message", "usage", "result"]);
    expect(run.signals[2]).toMatchObject({ name: "Bash", input: { command: expect.stringContaining("git commit") } });
    expect(run.signals[3]).toMatchObject({ isError: false });
    expect(ofKind(run.signals, "result")).toEqual([{ kind: "result", ok: true, turns: 2, costUsd: expect.any(Number), text: "Committed hello.txt." }]);
    // The token totals Claude Code reports are exactly what the server sent.
    expect(ofKind(run.signals, "usage")[0]!.inputTokens).toBe(sumUsage(lane.server!));
    // The request sequence of the real CLI (non-essential traffic off): a probe, then one call per turn.
    expect(lane.server!.requests.map((r) => `${r.method} ${r.url} ${r.status}`)).toEqual(["HEAD / 200", "POST /v1/messages?beta=true 200", "POST /v1/messages?beta=true 200"]);
    expect(lane.server!.requests[1]).toMatchObject({ stream: true, tools: expect.arrayContaining(["Bash", "Edit", "Write", "Read"]) });
    expect(lane.server!.requests[2]!.toolResults).toEqual([{ text: "(Bash completed with no output)", isError: false }]);
    console.log(`[timing] claude Bash+commit run: ${run.durationMs} ms`);
  });

  it("edits and writes files inside the worktree but is refused a write outside it", async () => {
    const outside = path.join(lane.fx.dir, "outside.txt");
    const run = await lane.run([
      { toolCalls: [{ name: "Read", input: { file_path: "README.md" } }] },
      { toolCalls: [{ name: "Edit", input: { file_path: "README.md", old_string: "# test repo", new_string: "# edited by claude" } }] },
      { toolCalls: [{ name: "Write", input: { file_path: "src/new.txt", content: "new file\n" } }] },
      { toolCalls: [{ name: "Write", input: { file_path: "../outside.txt", content: "escaped\n" } }] },
      { text: "Done." },
    ]);
    expect(run.exitCode).toBe(0);
    expect(await fs.readFile(path.join(lane.fx.worktree, "README.md"), "utf8")).toBe("# edited by claude\n");
    expect(await fs.readFile(path.join(lane.fx.worktree, "src/new.txt"), "utf8")).toBe("new file\n");
    await expect(fs.access(outside)).rejects.toThrow();
    const results = ofKind(run.signals, "tool_result");
    expect(results.map((r) => r.isError)).toEqual([false, false, false, true]);
    expect(results[3]!.text).toMatch(/permission/i);
    expect(ofKind(run.signals, "warning")).toEqual([{ kind: "warning", message: "permission denied for Write", line: expect.stringContaining("outside.txt") }]);
    expect(ofKind(run.signals, "result")[0]).toMatchObject({ ok: true, turns: 5 });
    console.log(`[timing] claude Read/Edit/Write run: ${run.durationMs} ms`);
  });

  it("retries a 500 from the model API (api_retry → warning) and then succeeds", async () => {
    const run = await lane.run([
      { toolCalls: [{ name: "Bash", input: { command: "true" } }] },
      { text: "Recovered.", failures: [{ status: 500 }] },
    ]);
    expect(run.exitCode).toBe(0);
    expect(lane.server!.requests.map((r) => r.status)).toEqual([200, 200, 500, 200]);
    expect(ofKind(run.signals, "warning")).toEqual([{ kind: "warning", message: "model API retry 1/10 after status 500", line: expect.any(String) }]);
    expect(ofKind(run.signals, "result")[0]).toMatchObject({ ok: true, text: "Recovered." });
  });

  it("fails clearly on a 401 (retries capped with CLAUDE_CODE_MAX_RETRIES)", async () => {
    const run = await lane.run([{ text: "never" }], { claudeMaxRetries: 0 }, { apiKey: "the-right-key" });
    expect(run.exitCode).toBe(1);
    expect(lane.server!.requests.filter((r) => r.status === 401)).toHaveLength(1);
    expect(ofKind(run.signals, "result")).toEqual([{ kind: "result", ok: false, turns: 1, costUsd: 0, text: expect.stringMatching(/API key/), failureClass: "provider_auth" }]);
  });
});
