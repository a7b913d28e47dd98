/**
 * The bundled demo script (scripts/demo.json) parses, and each of its conversations drives its
 * real engine to the promised change in a real worktree.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prepareAgentWorker, type AgentEngine } from "../engines/agent-engines";
import { type LaneFixture, makeLaneFixture, ofKind, runWorker, subjects } from "../engines/agent.testing";
import { startModelServer, type ModelServer } from "./model-server";
import { ScriptFileSchema } from "./script";

const DEMO_SCRIPT = path.join(import.meta.dirname, "scripts", "demo.json");

let fx: LaneFixture;
let server: ModelServer;
beforeEach(async () => {
  fx = await makeLaneFixture();
  server = await startModelServer({ script: ScriptFileSchema.parse(JSON.parse(await fs.readFile(DEMO_SCRIPT, "utf8"))) });
});
afterEach(async () => {
  await server.close();
  await fx.cleanup();
});

async function runDemo(engine: AgentEngine) {
  const prepared = await prepareAgentWorker(engine, { prompt: `[demo:${engine}] write the notes`, env: {} }, { laneDir: fx.laneDir, worktreePath: fx.worktree }, {
    anthropicBaseUrl: server.url,
    openaiBaseUrl: `${server.url}/v1`,
    codexModel: "gpt-5.5",
  });
  const run = await runWorker(prepared, fx.worktree);
  expect(run.exitCode).toBe(0);
  expect(ofKind(run.signals, "result")[0]).toMatchObject({ ok: true, text: expect.stringMatching(/^Done: NOTES-/) });
  expect(ofKind(run.signals, "tool_result").every((r) => !r.isError)).toBe(true);
  return run;
}

describe("demo script", () => {
  it.each(["claude", "anthropic"] as const)("%s: writes and commits its notes", async (engine) => {
    await runDemo(engine);
    expect(await fs.readFile(path.join(fx.worktree, `NOTES-${engine}.md`), "utf8")).toMatch(/^# Notes from the/);
    expect((await subjects(fx.repo, fx.branch))[0]).toBe(`docs: add ${engine} demo notes`);
  });

  it("codex: writes its notes with apply_patch", async () => {
    await runDemo("codex");
    expect(await fs.readFile(path.join(fx.worktree, "NOTES-codex.md"), "utf8")).toMatch(/^# Notes from the codex demo lane/);
  });
});
