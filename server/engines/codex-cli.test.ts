/**
 * The `codex` engine end to end: the real Codex CLI (npm dev dependency) in a real lane
 * worktree, with a custom model provider pointing at the local model server (Responses API).
 * The model is pinned to `gpt-5.5`, one whose tools are classic function/custom tools
 * (`exec_command`, `apply_patch`); see AgentEngineSettings.codexModel.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ofKind, subjects, engineLanePerTest } from "./agent.testing";

const lane = engineLanePerTest("codex", (server) => ({ openaiBaseUrl: `${server.url}/v1`, codexModel: "gpt-5.5" }));

const PATCH = "*** Begin Patch\n*** Update File: README.md\n@@\n-# test repo\n+# patched by codex\n*** Add File: src/added.txt\n+added by apply_patch\n*** End Patch\n";

describe("codex engine with the real Codex CLI", () => {
  it("runs scripted exec_command and apply_patch calls that change real files in the worktree", async () => {
    const run = await lane.run([
      { text: "Writing a file first.", toolCalls: [{ name: "exec_command", input: { cmd: "echo hello > hello.txt" } }] },
      { toolCalls: [{ name: "apply_patch", input: PATCH }] },
      { toolCalls: [{ name: "exec_command", input: { cmd: "cat does-not-exist.txt" } }] },
      { text: "All changes made." },
    ]);
    expect(run.exitCode).toBe(0);
    expect(await fs.readFile(path.join(lane.fx.worktree, "hello.txt"), "utf8")).toBe("hello\n");
    expect(await fs.readFile(path.join(lane.fx.worktree, "README.md"), "utf8")).toBe("# patched by codex\n");
    expect(await fs.readFile(path.join(lane.fx.worktree, "src/added.txt"), "utf8")).toBe("added by apply_patch\n");
    expect(run.signals.map((s) => s.kind)).toEqual(["ready", "message", "tool_use", "tool_result", "tool_use", "tool_result", "tool_use", "tool_result", "message", "usage", "result"]);
    expect(ofKind(run.signals, "tool_use").map((t) => t.name)).toEqual(["command", "file_change", "command"]);
    expect(ofKind(run.signals, "tool_result").map((t) => t.isError)).toEqual([false, false, true]);
    expect(ofKind(run.signals, "result")).toEqual([{ kind: "result", ok: true, turns: 1, text: "All changes made." }]);
    const usage = ofKind(run.signals, "usage")[0]!;
    expect(usage.inputTokens).toBe(lane.server!.requests.reduce((n, r) => n + (r.usage?.inputTokens ?? 0), 0));
    // The request sequence of the real CLI: one streamed Responses call per model turn, nothing else.
    expect(lane.server!.requests.map((r) => `${r.method} ${r.url} ${r.status} ${r.turnIndex}`)).toEqual([0, 1, 2, 3].map((i) => `POST /v1/responses 200 ${i}`));
    expect(lane.server!.requests[0]).toMatchObject({ stream: true, model: "gpt-5.5", tools: expect.arrayContaining(["exec_command", "apply_patch"]) });
    expect(lane.server!.requests[2]!.toolResults?.[0]?.text).toMatch(/Success\. Updated the following files/);
    console.log(`[timing] codex exec_command+apply_patch run: ${run.durationMs} ms`);
  });

  it("cannot commit in the default workspace-write sandbox (git dirs are read-only) but can with danger-full-access", async () => {
    const commit = [{ toolCalls: [{ name: "exec_command", input: { cmd: "echo x > x.txt && git add x.txt && git commit -q -m 'codex commit'" } }] }, { text: "ok" }];
    const sandboxed = await lane.run(commit);
    expect(sandboxed.exitCode).toBe(0);
    // Codex 0.169 often prints no command_execution item for a command its sandbox refused (seen
    // both ways for the same script), so the refusal is checked where it is certain: in what
    // the model was told, and in git.
    expect(lane.server!.requests[1]!.toolResults?.[0]?.text).toMatch(/Read-only file system/);
    expect(await subjects(lane.fx.repo, lane.fx.branch)).toEqual(["initial commit"]);
    await lane.server!.close();
    const open = await lane.run(commit, { codexSandbox: "danger-full-access" });
    expect(ofKind(open.signals, "tool_result")[0]).toMatchObject({ isError: false });
    expect(await subjects(lane.fx.repo, lane.fx.branch)).toEqual(["codex commit", "initial commit"]);
  });

  it("refuses writes outside the worktree (even under /tmp) in the default sandbox", async () => {
    const run = await lane.run([
      { toolCalls: [{ name: "apply_patch", input: "*** Begin Patch\n*** Add File: ../outside.txt\n+escaped\n*** End Patch\n" }] },
      { toolCalls: [{ name: "exec_command", input: { cmd: "echo escaped > ../outside2.txt" } }] },
      { text: "could not escape" },
    ]);
    expect(run.exitCode).toBe(0);
    await expect(fs.access(path.join(lane.fx.dir, "outside.txt"))).rejects.toThrow();
    await expect(fs.access(path.join(lane.fx.dir, "outside2.txt"))).rejects.toThrow();
    // Codex prints no item for a rejected patch (nor, often, for a refused command); the model is told in the next request.
    expect(lane.server!.requests[1]!.toolResults).toEqual([{ text: expect.stringMatching(/^patch rejected: writing outside of the project/), isError: false }]);
    expect(lane.server!.requests[2]!.toolResults?.[0]?.text).toMatch(/Read-only file system/);
  });

  it("retries a 500 and a failure inside the stream by itself, then succeeds", async () => {
    const run = await lane.run([{ text: "after the 500s", failures: [{ status: 500 }, { status: 500, midStream: true }] }]);
    expect(run.exitCode).toBe(0);
    expect(lane.server!.requests.map((r) => [r.status, r.midStreamError ?? false])).toEqual([[500, false], [200, true], [200, false]]);
    expect(ofKind(run.signals, "warning").map((w) => w.message)).toEqual([expect.stringMatching(/^codex: Reconnecting\.\.\. 1\/5 \(stream disconnected before completion: scripted mid-stream 500\)/)]);
    expect(ofKind(run.signals, "result")[0]).toMatchObject({ ok: true, text: "after the 500s" });
  });

  it("fails with a typed result on a 401", async () => {
    const run = await lane.run([{ text: "never" }], { codexMaxRetries: 0 }, { apiKey: "the-right-key" });
    expect(run.exitCode).toBe(1);
    expect(lane.server!.requests.every((r) => r.status === 401)).toBe(true);
    expect(ofKind(run.signals, "result")).toEqual([{ kind: "result", ok: false, turns: 1, text: expect.stringMatching(/401 Unauthorized/), failureClass: "provider_auth" }]);
  });
});
