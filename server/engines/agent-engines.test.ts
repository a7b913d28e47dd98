import fs from "node:fs/promises";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { PLACEHOLDER_API_KEY, PROMPT_FILE_NAME, prepareAgentWorker } from "./agent-engines";
import { ANTHROPIC_AGENT_PATH, ANTHROPIC_TASK_FILE } from "./anthropic-agent-engine";
import { ClaudeStreamAdapter } from "./claude";
import { CODEX_API_KEY_ENV, CodexJsonAdapter } from "./codex";
import { STDIN_FROM_FILE_SCRIPT, defaultClaudeBin, defaultCodexArgv } from "./engine-env";
import { tempDirPerTest } from "../git/git.testing";

const tmp = tempDirPerTest();
let ctx: { laneDir: string; worktreePath: string };
beforeEach(async () => {
  ctx = { laneDir: path.join(tmp.dir, "lane"), worktreePath: path.join(tmp.dir, "wt") };
});

describe("prepareAgentWorker", () => {
  it("claude: prompt file on stdin, isolated HOME with onboarding done, base URL and key, no FIFO", async () => {
    const w = await prepareAgentWorker("claude", { prompt: "fix 'it' $(now)\n", env: {} }, ctx, { anthropicBaseUrl: "http://127.0.0.1:9", claudeModel: "m", claudeMaxRetries: 2 });
    const promptFile = path.join(ctx.laneDir, PROMPT_FILE_NAME);
    expect(w.argv.slice(0, 5)).toEqual(["/bin/sh", "-c", STDIN_FROM_FILE_SCRIPT, promptFile, defaultClaudeBin()]);
    expect(w.argv).toContain("stream-json");
    expect(w.argv.slice(-2)).toEqual(["--model", "m"]);
    expect(await fs.readFile(promptFile, "utf8")).toBe("fix 'it' $(now)\n");
    const home = path.join(ctx.laneDir, "agent-home");
    expect(JSON.parse(await fs.readFile(path.join(home, ".claude.json"), "utf8"))).toEqual({ hasCompletedOnboarding: true });
    expect(w.env).toMatchObject({ HOME: home, ANTHROPIC_BASE_URL: "http://127.0.0.1:9", ANTHROPIC_API_KEY: PLACEHOLDER_API_KEY, CLAUDE_CODE_MAX_RETRIES: "2", GIT_AUTHOR_NAME: "Laneboard claude agent" });
    expect(w.stdin).toBe("null");
    expect(w.createAdapter()).toBeInstanceOf(ClaudeStreamAdapter);
    expect(w.createAdapter()).not.toBe(w.createAdapter());
  });

  it("codex: launcher through node, provider for the base URL, CODEX_HOME inside the agent home", async () => {
    const w = await prepareAgentWorker("codex", { prompt: "p", env: {} }, ctx, { openaiBaseUrl: "http://127.0.0.1:9/v1", openaiApiKey: "sk-test", codexModel: "gpt-5.5" });
    expect(w.argv.slice(4, 6)).toEqual(defaultCodexArgv());
    expect(w.argv).toContain('model_providers.laneboard.base_url="http://127.0.0.1:9/v1"');
    expect(w.argv.at(-1)).toBe("-");
    expect(w.env).toMatchObject({ CODEX_HOME: path.join(ctx.laneDir, "agent-home", ".codex"), [CODEX_API_KEY_ENV]: "sk-test" });
    expect((await fs.stat(w.env.CODEX_HOME!)).isDirectory()).toBe(true);
    expect(w.createAdapter()).toBeInstanceOf(CodexJsonAdapter);
  });

  it("anthropic: task file with model and retry settings; packet env and command override last", async () => {
    const w = await prepareAgentWorker(
      "anthropic",
      { prompt: "p", command: ["/opt/node22/bin/node"], env: { ANTHROPIC_API_KEY: "from-packet", HOME: "/custom" } },
      ctx,
      { anthropicApiKey: "from-config", anthropicModel: "claude-x", anthropicMaxRetries: 1, anthropicRetryBaseMs: 7 },
    );
    const taskFile = path.join(ctx.laneDir, ANTHROPIC_TASK_FILE);
    expect(w.argv).toEqual(["/opt/node22/bin/node", ANTHROPIC_AGENT_PATH, taskFile]);
    expect(JSON.parse(await fs.readFile(taskFile, "utf8"))).toEqual({ prompt: "p", model: "claude-x", maxRetries: 1, retryBaseMs: 7 });
    expect(w.env).toMatchObject({ ANTHROPIC_API_KEY: "from-packet", HOME: "/custom" });
    expect(w.env.ANTHROPIC_BASE_URL).toBeUndefined();
  });

  it("refuses a spec without a prompt", async () => {
    const err = await prepareAgentWorker("claude", { env: {} }, ctx).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe("invalid_input");
  });

  it("keeps an existing .claude.json on restart", async () => {
    await prepareAgentWorker("claude", { prompt: "p", env: {} }, ctx);
    const file = path.join(ctx.laneDir, "agent-home", ".claude.json");
    await fs.writeFile(file, '{"hasCompletedOnboarding":true,"projects":{}}');
    await prepareAgentWorker("claude", { prompt: "p2", env: {} }, ctx);
    expect(await fs.readFile(file, "utf8")).toBe('{"hasCompletedOnboarding":true,"projects":{}}');
    expect(await fs.readFile(path.join(ctx.laneDir, PROMPT_FILE_NAME), "utf8")).toBe("p2");
  });
});
