/**
 * Bad and partial engine output through the runtime: stand-ins for the `claude` and `codex`
 * programs (the packet's `command` override; real child processes printing what the real CLIs
 * print, and what they print when things go wrong), fed through the real supervisor, adapter,
 * monitor and lane runner. Also the rebuild of an adapter after a server restart.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { ConfigSchema } from "../config";
import { createRuntime, type Runtime } from "../runtime";
import { isTerminal, runtimePerTest, shellPacket, waitForLane, waitForOutput } from "../testing/runtime-harness";
import { agentPacket, fakeAgent, laneEvents, payloads, waitForEvent, workerStates } from "./worker.testing";
import { testDatabaseUrl } from "../testing/test-database";

const h = runtimePerTest({ killOnExit: true });
let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(h.dataDir, "fakes-"));
});

/** Prelude of every fake: `out(x)` prints a JSON line (or a string as is). */
const PRELUDE = `const fs = require("fs"); const out = (o) => process.stdout.write((typeof o === "string" ? o : JSON.stringify(o)) + "\\n");\n`;
const INIT = `out({ type: "system", subtype: "init", session_id: "fake-session", model: "fake", cwd: process.cwd() });\n`;
const OK = `out({ type: "result", subtype: "success", is_error: false, num_turns: 1, result: "done", total_cost_usd: 0.01, usage: { input_tokens: 100, output_tokens: 20 } });\n`;

async function runFake(engine: "claude" | "codex", body: string, extra: Parameters<typeof agentPacket>[2] = {}) {
  const command = await fakeAgent(dir, `fake-${engine}-${Math.random().toString(36).slice(2)}`, PRELUDE + body);
  const lane = await h.rt.lanes.create(agentPacket(h.repoId, engine, { command, ...extra }));
  const done = await waitForLane(h.rt, lane.id, isTerminal, 30_000);
  return { lane, done, events: await laneEvents(h.rt, lane.id) };
}

describe("engine output through the lane runner", () => {
  it("non-JSON, truncated JSON and an unknown event are tool_runtime warnings; the run goes on and finishes", async () => {
    const { done, events } = await runFake(
      "claude",
      INIT +
        `out("this is not JSON"); out('{"type":"assistant","message":{"content":[{"type":"text"'); out({ type: "mystery_event" });
         out({ type: "assistant", message: { content: [{ type: "tool_use", id: "t1", name: "Write", input: { file_path: "out.txt", content: "x" } }] } });
         fs.writeFileSync("out.txt", "x\\n");
         out({ type: "user", message: { content: [{ type: "tool_result", tool_use_id: "t1", content: "ok", is_error: false }] } });\n` +
        OK,
    );
    expect(done.state).toBe("finished");
    const warnings = payloads(events, "warning").filter((w) => w.message.startsWith("claude: "));
    expect(warnings.map((w) => w.failureClass)).toEqual(["tool_runtime", "tool_runtime", "tool_runtime"]);
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/^claude: not JSON/),
      expect.stringMatching(/^claude: truncated or invalid JSON/),
      expect.stringMatching(/^claude: unknown event type "mystery_event"/),
    ]);
    expect(workerStates(events)).toEqual(["spawning", "ready_for_prompt", "prompt_accepted", "running", "finished"]);
    expect(payloads(events, "worker.activity").map((a) => [a.kind, a.name ?? null])).toEqual([["tool_use", "Write"], ["final_message", null]]);
    expect(done.worker).toMatchObject({ sessionId: "fake-session", usage: { inputTokens: 100, outputTokens: 20, costUsd: 0.01 } });
    // An agent's output is followed line by line, never passed over.
    expect(h.rt.workerOutputStats.passedOver).toBe(0);
  });

  it("a shell worker's output is passed over by the monitor (no adapter reads it), and still reaches the log and the lane finishes", async () => {
    const go = path.join(dir, "go");
    const script = `echo first; while [ ! -e ${JSON.stringify(go)} ]; do sleep 0.02; done; for i in 1 2 3; do echo "after $i"; sleep 0.05; done`;
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["sh", "-c", script]));
    // lane.ready is appended once the monitor knows the run: output from then on is passed over.
    await waitForEvent(h.rt, lane.id, "lane.ready");
    await waitForOutput(h.rt, lane.id, "first");
    const before = h.rt.workerOutputStats.passedOver;
    await fs.writeFile(go, "");
    const done = await waitForLane(h.rt, lane.id, isTerminal, 30_000);
    expect(done.state).toBe("finished");
    expect(h.rt.workerOutputStats.passedOver).toBeGreaterThan(before);
    expect((await h.rt.lanes.logs(lane.id, { limit: 100 })).lines.map((l) => l.text)).toEqual(expect.arrayContaining(["first", "after 1", "after 2", "after 3"]));
  });

  it("partial output: the agent dies mid-line without a result → failed (tool_runtime), the cut line is a warning", async () => {
    const { done, events } = await runFake("claude", INIT + `process.stdout.write('{"type":"assistant","message":{"content":[{"type":"te'); process.exit(3);\n`);
    expect(done).toMatchObject({ state: "failed", lastExitCode: 3 });
    expect(payloads(events, "lane.failed")).toEqual([expect.objectContaining({ failureClass: "tool_runtime", reason: "claude exited with code 3 without a result" })]);
    expect(payloads(events, "warning").some((w) => /truncated or invalid JSON/.test(w.message))).toBe(true);
    expect(done.worker).toMatchObject({ state: "failed", lastError: { failureClass: "tool_runtime", message: "claude exited with code 3 without a result" } });
  });

  it("a failed result fails the lane with its class even at exit code 0", async () => {
    const { done, events } = await runFake("claude", INIT + `out({ type: "result", subtype: "error_max_turns", is_error: true, num_turns: 50 });\n`, {
      acceptance: [{ level: "targeted", argv: ["true"] }],
    });
    expect(done).toMatchObject({ state: "failed", lastExitCode: 0 });
    expect(payloads(events, "lane.failed")).toEqual([expect.objectContaining({ failureClass: "budget_exceeded" })]);
    expect(events.some((e) => e.type === "check.started")).toBe(false);
  });

  it("an agent reporting a cwd outside the worktree is stopped before it is ready (workspace_mismatch)", async () => {
    const { done, events } = await runFake("claude", `out({ type: "system", subtype: "init", session_id: "s", cwd: "/" }); setTimeout(() => {}, 60_000);\n`);
    expect(done.state).toBe("failed");
    expect(payloads(events, "branch.workspace_mismatch")).toEqual([expect.objectContaining({ actual: "/", source: "cwd" })]);
    expect(payloads(events, "lane.failed")).toEqual([expect.objectContaining({ failureClass: "workspace_mismatch" })]);
    expect(workerStates(events)).toEqual(["spawning", "killed"]);
    expect(events.some((e) => e.type === "lane.ready")).toBe(false);
    const proc = await h.rt.supervisor.get(done.currentProcessId!);
    expect(await h.rt.supervisor.waitForExit(proc.id)).toMatchObject({ status: "killed" });
  });

  it("a codex file_change outside the worktree is a workspace mismatch", async () => {
    const { events } = await runFake(
      "codex",
      `out({ type: "thread.started", thread_id: "th-1" }); out({ type: "turn.started" });
       out({ type: "item.started", item: { id: "i1", type: "file_change", changes: [{ path: "/tmp/escaped.txt", kind: "add" }], status: "in_progress" } });
       setTimeout(() => {}, 60_000);\n`,
    );
    expect(payloads(events, "branch.workspace_mismatch")).toEqual([expect.objectContaining({ actual: "/tmp/escaped.txt", source: "tool:file_change" })]);
    expect(workerStates(events)).toEqual(["spawning", "ready_for_prompt", "prompt_accepted", "running", "killed"]);
  });

  it("a flood of garbage is capped at 20 warnings plus one count", async () => {
    const { done, events } = await runFake("claude", INIT + `for (let i = 0; i < 50; i++) out("garbage " + i); fs.writeFileSync("g.txt", "g");\n` + OK);
    expect(done.state).toBe("finished");
    const warnings = payloads(events, "warning").filter((w) => w.message.startsWith("claude: "));
    expect(warnings).toHaveLength(21);
    expect(warnings.at(-1)!.message).toBe("claude: 30 more warnings were not recorded");
  });
});

describe("after a server restart", () => {
  it("rebuilds the adapter from the log without re-emitting, so a result printed before the restart decides the exit", async () => {
    await h.rt.quit(); // this test manages its own runtimes over the harness's data dir
    const config = ConfigSchema.parse({ dataDir: h.dataDir, databaseUrl: await testDatabaseUrl(h.dataDir), demo: false, killGraceMs: 1000, killOnExit: false });
    let rt: Runtime = await createRuntime(config);
    try {
      const go = path.join(dir, "go");
      const command = await fakeAgent(
        dir,
        "fake-restart",
        PRELUDE + INIT + `out({ type: "result", subtype: "error_max_turns", is_error: true, num_turns: 9, result: "gave up" });
          const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(go)})) { clearInterval(t); process.exit(0); } }, 20);\n`,
      );
      const lane = await rt.lanes.create(agentPacket(h.repoId, "claude", { command }));
      await waitForEvent(rt, lane.id, "worker.activity", (a) => a.kind === "final_message");
      await rt.quit(); // the worker keeps running
      rt = await createRuntime({ ...config, killOnExit: true });
      await fs.writeFile(go, "");
      const done = await waitForLane(rt, lane.id, isTerminal, 30_000);
      expect(done).toMatchObject({ state: "failed", lastExitCode: 0 });
      const events = await laneEvents(rt, lane.id);
      // Without the replay the adapter would have seen no result: tool_runtime "exited … without a result".
      expect(payloads(events, "lane.failed")).toEqual([expect.objectContaining({ failureClass: "budget_exceeded", reason: "gave up" })]);
      expect(events.filter((e) => e.type === "lane.ready")).toHaveLength(1);
      expect(payloads(events, "worker.activity").filter((a) => a.kind === "final_message")).toHaveLength(1);
      expect(events.some((e) => e.type === "process.reattached")).toBe(true);
      expect(workerStates(events)).toEqual(["spawning", "ready_for_prompt", "prompt_accepted", "running", "failed"]);
    } finally {
      // Failed before the second runtime took the worker over: one that kills on quit takes it over now.
      if (!rt.config.killOnExit) {
        await rt.quit();
        rt = await createRuntime({ ...config, killOnExit: true });
      }
      await rt.quit();
    }
  });
});
