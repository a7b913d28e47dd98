/**
 * The interactive `claude` command for a lane: the same home, identity, model API settings and
 * tool permissions as the headless engine (../agent-engines.ts), without `-p`, so Claude Code
 * shows its terminal UI in a tmux session and takes prompts through its input line.
 *
 * Interactive mode asks before using a tool that is not allowed (a dialog the session reports
 * as `blocked`), so the lane allows its tools up front: `--permission-mode acceptEdits` (edits
 * inside the working directory) and `--allowedTools` (checked: a scripted `Bash` and `Write`
 * ran without a question). With `ANTHROPIC_API_KEY` set Claude Code first asks whether to use
 * that key ("Detected a custom API key in your environment"); `approveApiKey` records the
 * answer in the agent's `.claude.json` beforehand, as Claude Code itself does after "Yes".
 */
import fs from "node:fs/promises";
import path from "node:path";
import { PLACEHOLDER_API_KEY } from "../agent-engines";
import { DEFAULT_CLAUDE_PERMISSION_MODE, DEFAULT_CLAUDE_TOOLS } from "../claude";
import { agentGitEnv, defaultClaudeBin, prepareAgentHome } from "../engine-env";

export interface InteractiveClaudeSettings {
  /** Base URL of an Anthropic Messages API (e.g. the local model server). */
  anthropicBaseUrl?: string;
  anthropicApiKey?: string;
  /** `claude` program (+ leading args); default: the `@anthropic-ai/claude-code` dependency. */
  claudeBin?: string[];
  claudeModel?: string;
  /** Default {@link DEFAULT_CLAUDE_PERMISSION_MODE}. */
  permissionMode?: string;
  /** Default {@link DEFAULT_CLAUDE_TOOLS}. */
  allowedTools?: string[];
  /** Pre-approve the API key so its confirmation dialog does not appear (default false: the dialog is answered on screen). */
  approveApiKey?: boolean;
}

export interface InteractiveCommand {
  argv: string[];
  cwd: string;
  /** Only what the agent needs on top of the server's environment (see InteractiveSession `inheritEnv`). */
  env: Record<string, string>;
}

/**
 * Prepare `<laneDir>/agent-home` and the command for an interactive Claude Code in the worktree.
 * @throws AppError `command_not_found` when Claude Code is not installed and no `claudeBin` is given
 */
export async function prepareInteractiveClaude(ctx: { laneDir: string; worktreePath: string }, settings: InteractiveClaudeSettings = {}): Promise<InteractiveCommand> {
  const { home } = await prepareAgentHome(ctx.laneDir);
  const key = settings.anthropicApiKey ?? (settings.anthropicBaseUrl ? PLACEHOLDER_API_KEY : undefined);
  if (key && settings.approveApiKey) await approveApiKey(home, key);
  const argv = [...(settings.claudeBin ?? [defaultClaudeBin()])];
  argv.push("--permission-mode", settings.permissionMode ?? DEFAULT_CLAUDE_PERMISSION_MODE);
  argv.push("--allowedTools", (settings.allowedTools ?? DEFAULT_CLAUDE_TOOLS).join(","));
  if (settings.claudeModel) argv.push("--model", settings.claudeModel);
  const env: Record<string, string> = {
    HOME: home,
    ...agentGitEnv("claude"),
    ...(settings.anthropicBaseUrl ? { ANTHROPIC_BASE_URL: settings.anthropicBaseUrl } : {}),
    ...(key ? { ANTHROPIC_API_KEY: key } : {}),
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
  return { argv, cwd: path.resolve(ctx.worktreePath), env };
}

/**
 * Record `key` as approved in `<home>/.claude.json` (`customApiKeyResponses.approved`, which
 * holds the last 20 characters of each approved key: Claude Code 2.1.197 normalizes keys with
 * `e.slice(-20)` before saving or comparing them, read from its bundled source). Keeps every
 * other setting.
 */
export async function approveApiKey(home: string, key: string): Promise<void> {
  const file = path.join(home, ".claude.json");
  const json = JSON.parse(await fs.readFile(file, "utf8").catch(() => "{}")) as Record<string, unknown>;
  const responses = (json.customApiKeyResponses ?? {}) as { approved?: string[]; rejected?: string[] };
  const tail = key.slice(-20);
  json.customApiKeyResponses = { approved: [...new Set([...(responses.approved ?? []), tail])], rejected: (responses.rejected ?? []).filter((k) => k !== tail) };
  await fs.writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
}
