/**
 * The agent engines under the real process supervisor, the way the lane runner will run them:
 * `supervisor.start({ argv, env, stdin: "null" })`, stdout lines arriving as `process.output`
 * bus events and fed to the engine's adapter as they come.
 */
import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startModelServer, type ModelServer } from "../model-server/model-server";
import { createHarness, type Harness, type Instance } from "../processes/supervisor.testing";
import { prepareAgentWorker, type PreparedAgentWorker } from "./agent-engines";
import { type LaneFixture, makeLaneFixture, subjects } from "./agent.testing";
import type { EngineSignal } from "./engine-events";
import { outputLines } from "@/lib/log-chunk";

let fx: LaneFixture;
let harness: Harness;
let inst: Instance;
let server: ModelServer | null = null;
beforeEach(async () => {
  fx = await makeLaneFixture();
  harness = await createHarness();
  inst = await harness.boot();
});
afterEach(async () => {
  await server?.close();
  server = null;
  await harness.cleanup();
  await fx.cleanup();
});

/** Start the worker under the supervisor; feed its stdout lines to the adapter as they arrive. */
async function superviseWorker(prepared: PreparedAgentWorker): Promise<EngineSignal[]> {
  const adapter = prepared.createAdapter();
  const signals: EngineSignal[] = [];
  const proc = await inst.sup.start({ laneId: null, role: "worker", argv: prepared.argv, cwd: fx.worktree, env: prepared.env, confineTo: fx.worktree, stdin: prepared.stdin });
  const off = inst.bus.on("process.output", (batch) => {
    if (batch.processId !== proc.id) return;
    for (const line of outputLines(batch)) if (line.stream === "stdout") signals.push(...adapter.feed(line.text));
  });
  const exit = await inst.exitOf(proc.id, 60_000);
  // The exit is published after the last output batch of the process.
  off();
  signals.push(...adapter.end(exit));
  return signals;
}

describe("agent engines under the process supervisor", () => {
  it("real Claude Code: the scripted Bash commit lands and the live signals end in a result", async () => {
    server = await startModelServer({
      script: [{ name: "lane", match: "LANE-TASK", turns: [{ toolCalls: [{ name: "Bash", input: { command: "echo a > a.txt && git add a.txt && git commit -q -m 'supervised commit'" } }] }, { text: "ok" }] }],
    });
    const prepared = await prepareAgentWorker("claude", { prompt: "LANE-TASK", env: {} }, { laneDir: fx.laneDir, worktreePath: fx.worktree }, { anthropicBaseUrl: server.url });
    const signals = await superviseWorker(prepared);
    expect(signals.map((s) => s.kind)).toEqual(["ready", "tool_use", "tool_result", "message", "usage", "result"]);
    expect(signals.at(-1)).toMatchObject({ kind: "result", ok: true, turns: 2 });
    expect(await subjects(fx.repo, fx.branch)).toEqual(["supervised commit", "initial commit"]);
  });

  it("delivers a 200,000-character prompt with shell metacharacters intact through the prompt file", async () => {
    const prompt = `$(touch pwned) 'quoted' "double" \`tick\` ; | & \n${"é".repeat(100_000)}`.slice(0, 200_000);
    // A stand-in for the claude binary (via the packet's `command` override) that hashes its stdin.
    const fakeFile = path.join(fx.dir, "fake-claude.cjs");
    await fs.writeFile(
      fakeFile,
      `const c=[];process.stdin.on("data",d=>c.push(d)).on("end",()=>{const b=Buffer.concat(c);
       console.log(JSON.stringify({type:"system",subtype:"init",session_id:String(b.length)}));
       console.log(JSON.stringify({type:"result",subtype:"success",is_error:false,num_turns:1,result:require("crypto").createHash("sha256").update(b).digest("hex")}));});`,
    );
    const fake = [process.execPath, fakeFile];
    const prepared = await prepareAgentWorker("claude", { prompt, command: fake, env: {} }, { laneDir: fx.laneDir, worktreePath: fx.worktree });
    const signals = await superviseWorker(prepared);
    expect(signals).toEqual([
      { kind: "ready", sessionId: String(Buffer.byteLength(prompt)) },
      { kind: "result", ok: true, turns: 1, text: crypto.createHash("sha256").update(prompt).digest("hex") },
    ]);
    expect(await subjects(fx.repo, fx.branch)).toEqual(["initial commit"]);
  });
});
