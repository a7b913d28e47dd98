/**
 * One entry point for the three agent engines (`claude`, `codex`, `anthropic`): prepares the
 * lane's agent home and prompt/task file, and returns the argv, the environment, how the
 * supervisor should wire stdin, and a factory for the engine's stdout adapter.
 *
 * | engine | argv (started in the worktree) | model API settings |
 * | --- | --- | --- |
 * | `claude` | `/bin/sh -c 'exec "$@" < "$0"' <laneDir>/prompt.txt <claude> -p --output-format stream-json --verbose --permission-mode acceptEdits --allowedTools …` | `ANTHROPIC_BASE_URL`, `ANTHROPIC_API_KEY` |
 * | `codex` | `/bin/sh -c … <laneDir>/prompt.txt <node> <codex.js> exec --json --color never --sandbox … [-c model_provider=laneboard …] -` | provider `base_url`, key in `LANEBOARD_CODEX_API_KEY` |
 * | `anthropic` | `<node> anthropic-agent.mjs <laneDir>/anthropic-task.json` | `ANTHROPIC_BASE_URL`, `ANTHROPIC_API_KEY` |
 * Every engine gets `HOME` = `<laneDir>/agent-home` (see engine-env `prepareAgentHome`) and a
 * git identity; the packet's `worker.env` is applied last, so it can override anything.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { AppError } from "@/lib/errors";
import type { WorkerSpec } from "@/lib/task-packet";
import { AnthropicAgentAdapter, anthropicAgentArgv } from "./anthropic-agent-engine";
import { ClaudeStreamAdapter, claudeArgv } from "./claude";
import { CODEX_API_KEY_ENV, CodexJsonAdapter, codexArgv, type CodexSandbox } from "./codex";
import type { EngineAdapter } from "./engine-events";
import { agentGitEnv, defaultClaudeBin, defaultCodexArgv, prepareAgentHome, stdinFromFile } from "./engine-env";


/** Server-wide settings for the agent engines (from config; all optional). */
export interface AgentEngineSettings {
  /** Base URL of an Anthropic Messages API for `claude` and `anthropic` (e.g. the local model server). */
  anthropicBaseUrl?: string;
  anthropicApiKey?: string;
  /** Base URL of an OpenAI Responses API for `codex`, including `/v1`. */
  openaiBaseUrl?: string;
  openaiApiKey?: string;
  /** `claude` program (+ leading args); default: the `@anthropic-ai/claude-code` dependency. */
  claudeBin?: string[];
  /** `codex` program (+ leading args); default: node + the `@openai/codex` launcher. */
  codexBin?: string[];
  /** Model per engine (`--model` / task `model`); each engine's own default when absent. */
  claudeModel?: string;
  /** For Codex against the local model server use one with classic function tools, e.g. `gpt-5.5`:
   * 0.169's default (`gpt-6.1-sol`) gets its tools as a JavaScript "code mode" the scripts do not speak. */
  codexModel?: string;
  anthropicModel?: string;
  /** Model API retries inside Claude Code (`CLAUDE_CODE_MAX_RETRIES`; it defaults to 10, even for a 401, with backoff up to ~35 s). */
  claudeMaxRetries?: number;
  /** Model API retries inside Codex (provider `request_max_retries` / `stream_max_retries`; only with `openaiBaseUrl`). */
  codexMaxRetries?: number;
  /** Codex's command sandbox. Default `workspace-write`: writes only inside the worktree (not even
   * /tmp), and no commits, because Codex keeps git directories read-only; `danger-full-access`
   * lets the agent commit but confines nothing. */
  codexSandbox?: CodexSandbox;
  /** For the `anthropic` engine: retries and first backoff step (ms). */
  anthropicMaxRetries?: number;
  anthropicRetryBaseMs?: number;
}

/** What every agent engine gets: its HOME, the common environment, and where its prompt goes. */
interface AgentSetup {
  laneDir: string;
  codexHome: string;
  /** HOME and the git identity. */
  base: Record<string, string>;
  /** The Messages API settings (`claude`, `anthropic`). */
  anthropicEnv: Record<string, string>;
  promptFile: string;
  prompt: string;
}

/**
 * How one agent engine is run (an entry of the engine registry, ./engine-command.ts `ENGINE_REGISTRY`):
 * its argv and environment, its stdout adapter, and how a follow-up resumes its session.
 */
export interface AgentEngineDefinition {
  /** The argv and the engine's own environment (HOME, git identity and `worker.env` are added around it). */
  command(worker: Pick<WorkerSpec, "command">, setup: AgentSetup, settings: AgentEngineSettings): Promise<{ argv: string[]; env: Record<string, string> }>;
  createAdapter: () => EngineAdapter;
  /** The argv of a follow-up that continues session `sessionId`; absent when the engine keeps no session. */
  resume?: (argv: string[], sessionId: string) => string[] | null;
}

export interface PreparedAgentWorker {
  argv: string[];
  env: Record<string, string>;
  /** The prompt travels in a file, so the worker needs no FIFO: start it with stdin `null`. */
  stdin: "null";
  /** A fresh adapter for this worker's stdout lines. */
  createAdapter: () => EngineAdapter;
}

/** API key sent to a configured base URL when no key is configured (a local model server checks none). */
export const PLACEHOLDER_API_KEY = "laneboard-local";

/** File name of the prompt (claude, codex) inside the lane directory. */
export const PROMPT_FILE_NAME = "prompt.txt";

/** The agent engines, by name. The whole registry (with `shell` and `script`) is ./engine-command.ts `ENGINE_REGISTRY`. */
export const AGENT_ENGINES = {
  claude: {
    async command(worker, { promptFile, prompt, anthropicEnv }, settings) {
      await fs.writeFile(promptFile, prompt);
      const bin = worker.command ?? settings.claudeBin ?? [defaultClaudeBin()];
      // No auto-update or telemetry from a lane: there is no one to update and nowhere to report.
      // (With non-essential traffic off Claude Code also skips its session-title side request.)
      const env: Record<string, string> = { ...anthropicEnv, DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" };
      if (settings.claudeMaxRetries !== undefined) env.CLAUDE_CODE_MAX_RETRIES = String(settings.claudeMaxRetries);
      return { argv: stdinFromFile(promptFile, claudeArgv({ bin, model: settings.claudeModel })), env };
    },
    createAdapter: () => new ClaudeStreamAdapter(),
    // Claude Code takes `--resume <id>` anywhere after its program.
    resume: (argv, sessionId) => [...argv, "--resume", sessionId],
  },
  codex: {
    async command(worker, { promptFile, prompt, codexHome }, settings) {
      await fs.writeFile(promptFile, prompt);
      const bin = worker.command ?? settings.codexBin ?? defaultCodexArgv();
      const argv = codexArgv({ bin, model: settings.codexModel, baseUrl: settings.openaiBaseUrl, sandbox: settings.codexSandbox, requestMaxRetries: settings.codexMaxRetries });
      // Codex refuses to start when the provider's key variable is unset, even for a local server that checks none.
      const key = settings.openaiApiKey ?? (settings.openaiBaseUrl ? PLACEHOLDER_API_KEY : undefined);
      const env: Record<string, string> = { CODEX_HOME: codexHome, ...(key ? { [CODEX_API_KEY_ENV]: key, OPENAI_API_KEY: key } : {}) };
      return { argv: stdinFromFile(promptFile, argv), env };
    },
    createAdapter: () => new CodexJsonAdapter(),
    // `codex exec` takes the `resume <id>` subcommand before the final `-` (read the prompt from stdin), after the exec options.
    resume: (argv, sessionId) => (argv.at(-1) === "-" ? [...argv.slice(0, -1), "resume", sessionId, "-"] : null),
  },
  anthropic: {
    async command(worker, { laneDir, prompt, anthropicEnv }, settings) {
      const argv = await anthropicAgentArgv(
        {
          prompt,
          ...(settings.anthropicModel ? { model: settings.anthropicModel } : {}),
          ...(settings.anthropicMaxRetries !== undefined ? { maxRetries: settings.anthropicMaxRetries } : {}),
          ...(settings.anthropicRetryBaseMs !== undefined ? { retryBaseMs: settings.anthropicRetryBaseMs } : {}),
        },
        laneDir,
      );
      return { argv: worker.command ? [...worker.command, ...argv.slice(1)] : argv, env: anthropicEnv };
    },
    createAdapter: () => new AnthropicAgentAdapter(),
  },
} satisfies Record<string, AgentEngineDefinition>;

export type AgentEngine = keyof typeof AGENT_ENGINES;

/**
 * Prepare an agent worker.
 * @param worker the packet's worker spec (`prompt` required; `command` overrides the engine's program; `env` is applied last)
 * @param ctx the lane's private directory and worktree
 * @throws AppError `invalid_input` without a prompt; `command_not_found` when the engine's npm package is missing
 */
export async function prepareAgentWorker(
  engine: AgentEngine,
  worker: Pick<WorkerSpec, "prompt" | "command" | "env">,
  ctx: { laneDir: string; worktreePath: string },
  settings: AgentEngineSettings = {},
): Promise<PreparedAgentWorker> {
  if (!worker.prompt) throw new AppError("invalid_input", `the ${engine} engine needs a prompt`);
  const laneDir = path.resolve(ctx.laneDir);
  const { home, codexHome } = await prepareAgentHome(laneDir);
  const setup: AgentSetup = {
    laneDir,
    codexHome,
    base: { HOME: home, ...agentGitEnv(engine) },
    anthropicEnv: {
      ...(settings.anthropicBaseUrl ? { ANTHROPIC_BASE_URL: settings.anthropicBaseUrl } : {}),
      // Without a key Claude Code would try an interactive login; a local server needs some key.
      ...(settings.anthropicApiKey || settings.anthropicBaseUrl ? { ANTHROPIC_API_KEY: settings.anthropicApiKey ?? PLACEHOLDER_API_KEY } : {}),
    },
    promptFile: path.join(laneDir, PROMPT_FILE_NAME),
    prompt: worker.prompt,
  };
  const definition: AgentEngineDefinition = AGENT_ENGINES[engine];
  const { argv, env } = await definition.command(worker, setup, settings);
  return { argv, env: { ...setup.base, ...env, ...worker.env }, stdin: "null", createAdapter: definition.createAdapter };
}
