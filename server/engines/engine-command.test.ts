import fs from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { beforeEach, describe, expect, it } from "vitest";
import { ENGINES, ENGINE_TRAITS, WorkerSpecSchema, type WorkerSpec } from "@/lib/task-packet";
import { initRepo, tempDirPerTest } from "../git/git.testing";
import { AnthropicAgentAdapter } from "./anthropic-agent-engine";
import { ClaudeStreamAdapter } from "./claude";
import { CodexJsonAdapter } from "./codex";
import { createEngineAdapter, ENGINE_REGISTRY, prepareWorker, SCRIPT_AGENT_PATH } from "./engine-command";

const tmp = tempDirPerTest();
let ctx: { laneDir: string; worktreePath: string };
beforeEach(async () => {
  ctx = { laneDir: path.join(tmp.dir, "lanes", "l1"), worktreePath: await initRepo(path.join(tmp.dir, "wt")) };
});

const spec = (input: unknown): WorkerSpec => WorkerSpecSchema.parse(input);

describe("prepareWorker", () => {
  it("script: writes the steps to <laneDir>/script.json and runs the agent on it with this node", async () => {
    const worker = spec({ engine: "script", script: [{ op: "write", path: "x.txt", content: "hi" }], env: { FOO: "bar" } });
    const prepared = await prepareWorker(worker, ctx);
    const file = path.join(ctx.laneDir, "script.json");
    expect(prepared).toEqual({ argv: [process.execPath, SCRIPT_AGENT_PATH, file], env: { FOO: "bar" }, secretEnv: [] });
    expect(path.isAbsolute(SCRIPT_AGENT_PATH)).toBe(true);
    expect(JSON.parse(await fs.readFile(file, "utf8"))).toEqual(worker.script);

    const [program, ...args] = prepared.argv;
    const res = await execa(program!, args, { cwd: ctx.worktreePath, reject: false });
    expect(res.exitCode).toBe(0);
    expect(await fs.readFile(path.join(ctx.worktreePath, "x.txt"), "utf8")).toBe("hi");
  });

  it("shell: uses the packet's command as the argv", async () => {
    const prepared = await prepareWorker(spec({ engine: "shell", command: ["npm", "test", "--", "$(x)"] }), ctx);
    expect(prepared).toEqual({ argv: ["npm", "test", "--", "$(x)"], env: {}, secretEnv: [] });
  });

  it.each([
    ["claude", ClaudeStreamAdapter],
    ["codex", CodexJsonAdapter],
    ["anthropic", AnthropicAgentAdapter],
  ] as const)("%s: prepared through prepareAgentWorker with the server's settings, stdin null, and its adapter", async (engine, Adapter) => {
    const prepared = await prepareWorker(spec({ engine, prompt: "do it", env: { EXTRA: "1" } }), ctx, { anthropicBaseUrl: "http://127.0.0.1:9", openaiBaseUrl: "http://127.0.0.1:9/v1", claudeMaxRetries: 2 });
    expect(prepared.stdin).toBe("null");
    expect(prepared.createAdapter!()).toBeInstanceOf(Adapter);
    expect(createEngineAdapter(engine)).toBeInstanceOf(Adapter);
    expect(prepared.env).toMatchObject({ EXTRA: "1", HOME: path.join(ctx.laneDir, "agent-home") });
    if (engine !== "codex") expect(prepared.env.ANTHROPIC_BASE_URL).toBe("http://127.0.0.1:9");
    // Each agent may inherit only its own API's credentials from the server (server/processes/child-env.ts).
    expect(prepared.secretEnv).toEqual(engine === "codex" ? ["OPENAI_API_KEY", "CODEX_API_KEY"] : ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]);
    if (engine === "claude") expect(prepared.env.CLAUDE_CODE_MAX_RETRIES).toBe("2");
    if (engine === "codex") expect(prepared.argv).toContain('model_providers.laneboard.base_url="http://127.0.0.1:9/v1"');
  });

  it("follow-ups: claude gets --resume <id>, codex the resume subcommand before '-', others are not_supported", async () => {
    const resume = { ...ctx, resumeSessionId: "sess-1" };
    expect((await prepareWorker(spec({ engine: "claude", prompt: "more" }), resume)).argv.slice(-2)).toEqual(["--resume", "sess-1"]);
    expect((await prepareWorker(spec({ engine: "codex", prompt: "more" }), resume)).argv.slice(-3)).toEqual(["resume", "sess-1", "-"]);
    for (const worker of [spec({ engine: "anthropic", prompt: "more" }), spec({ engine: "shell", command: ["true"] })]) {
      await expect(prepareWorker(worker, resume)).rejects.toMatchObject({ code: "not_supported" });
    }
    await expect(prepareWorker(spec({ engine: "claude", prompt: "x" }), { ...ctx, resumeSessionId: "--evil" })).rejects.toMatchObject({ code: "invalid_input" });
    expect(createEngineAdapter("shell")).toBeNull();
  });

  it("the registry says of each engine what the board is told (lib/task-packet.ts ENGINE_TRAITS): agent or not, resumes or not", () => {
    for (const engine of ENGINES) {
      expect({ engine, agent: ENGINE_REGISTRY[engine].agent, resumes: !!ENGINE_REGISTRY[engine].resume }).toEqual({ engine, ...ENGINE_TRAITS[engine] });
    }
  });
});
