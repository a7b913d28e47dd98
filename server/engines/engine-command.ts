/**
 * How a lane's worker is run: turns the packet's {@link WorkerSpec} into the argv, extra
 * environment and stdin mode the process supervisor starts in the lane's worktree, plus (for
 * agent engines) the adapter that reads the worker's stdout.
 *
 * | engine | argv | stdout adapter |
 * | --- | --- | --- |
 * | `script` | `[node, <abs>/script-agent.mjs, <laneDir>/script.json]` (steps written there; `command` is ignored) | none |
 * | `shell` | the packet's `command` as given | none |
 * | `claude`, `codex`, `anthropic` | see ./agent-engines.ts `prepareAgentWorker` (prompt via a file, stdin `null`) | ./claude.ts, ./codex.ts, ./anthropic-agent-engine.ts |
 *
 * Follow-ups (`ctx.resumeSessionId`): Claude Code `-p … --resume <session_id>` and
 * `codex exec … resume <thread_id> -` continue the agent's own session (kept in the lane's agent
 * HOME) with a new prompt; both checked against the local model server (the next request carries
 * the earlier turns). The other engines have no session to continue.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "@/lib/errors";
import type { Engine, WorkerSpec } from "@/lib/task-packet";
import type { StdinMode } from "../processes/wrapper";
import { prepareAgentWorker, type AgentEngineSettings } from "./agent-engines";
import { AnthropicAgentAdapter } from "./anthropic-agent-engine";
import { ClaudeStreamAdapter } from "./claude";
import { CodexJsonAdapter } from "./codex";
import type { EngineAdapter } from "./engine-events";

export type { AgentEngineSettings } from "./agent-engines";

/**
 * Absolute path of the script agent. Resolved next to this module, which holds as long as the
 * server runs from source (tsx, vitest); a bundler that moves this file must copy the agent too.
 */
export const SCRIPT_AGENT_PATH = fileURLToPath(new URL("./script-agent.mjs", import.meta.url));

/** File name of the script engine's steps inside the lane directory. */
export const SCRIPT_FILE_NAME = "script.json";

/** Engines whose agent keeps a session that a follow-up prompt can resume. */
export const FOLLOW_UP_ENGINES: ReadonlySet<Engine> = new Set(["claude", "codex"]);

export interface WorkerContext {
  /** The lane's private directory under the data dir (created if missing). */
  laneDir: string;
  /** The lane's worktree: the worker's cwd. */
  worktreePath: string;
  /** Continue this agent session (a follow-up); only for {@link FOLLOW_UP_ENGINES}. */
  resumeSessionId?: string;
}

export interface PreparedWorker {
  /** Program and arguments; the first element is the program. Never joined into a shell string. */
  argv: string[];
  /** Variables added to the server's environment for the worker (the packet's `worker.env` last). */
  env: Record<string, string>;
  /** stdin for the supervisor; absent: its default (a FIFO the server can write to). */
  stdin?: StdinMode;
  /** Engines with structured output: a fresh parser for this worker's stdout lines. */
  createAdapter?: () => EngineAdapter;
}

/**
 * A fresh stdout adapter for `engine`, or null for engines whose output is plain text
 * (`shell`, `script`). Used to rebuild a worker's adapter after a server restart.
 */
export function createEngineAdapter(engine: string): EngineAdapter | null {
  switch (engine) {
    case "claude":
      return new ClaudeStreamAdapter();
    case "codex":
      return new CodexJsonAdapter();
    case "anthropic":
      return new AnthropicAgentAdapter();
    default:
      return null;
  }
}

/**
 * Prepare a worker's command line. For `script`, writes the steps to `<laneDir>/script.json`
 * (overwritten on restart, so a replayed packet runs the same steps); for agent engines, the
 * prompt or task file and the agent's HOME under `laneDir`.
 *
 * @param settings server-wide engine settings (base URLs, keys, binaries, models, retries)
 * @throws AppError `invalid_input` for a spec missing what its engine needs (the packet schema
 *   normally catches that first); `not_supported` for `resumeSessionId` with an engine that has
 *   no sessions; `command_not_found` when an agent CLI is not installed; `internal` if the
 *   script agent file is missing from the install.
 */
export async function prepareWorker(worker: WorkerSpec, ctx: WorkerContext, settings: AgentEngineSettings = {}): Promise<PreparedWorker> {
  if (ctx.resumeSessionId !== undefined && !FOLLOW_UP_ENGINES.has(worker.engine)) {
    throw new AppError("not_supported", `the ${worker.engine} engine cannot continue a session`);
  }
  const env = { ...worker.env };
  switch (worker.engine) {
    case "script": {
      if (!worker.script) throw new AppError("invalid_input", "the script engine needs script steps");
      await fs.access(SCRIPT_AGENT_PATH).catch(() => {
        throw new AppError("internal", `script agent not found at ${SCRIPT_AGENT_PATH}`);
      });
      await fs.mkdir(ctx.laneDir, { recursive: true });
      const file = path.join(path.resolve(ctx.laneDir), SCRIPT_FILE_NAME);
      await fs.writeFile(file, `${JSON.stringify(worker.script, null, 2)}\n`);
      return { argv: [process.execPath, SCRIPT_AGENT_PATH, file], env };
    }
    case "shell": {
      if (!worker.command) throw new AppError("invalid_input", "the shell engine needs a command");
      return { argv: [...worker.command], env };
    }
    case "claude":
    case "codex":
    case "anthropic": {
      const prepared = await prepareAgentWorker(worker.engine, worker, ctx, settings);
      const argv = ctx.resumeSessionId === undefined ? prepared.argv : withResume(worker.engine, prepared.argv, ctx.resumeSessionId);
      return { argv, env: prepared.env, stdin: prepared.stdin, createAdapter: prepared.createAdapter };
    }
  }
}

/**
 * Add the resume arguments to a prepared agent argv: Claude Code takes `--resume <id>` anywhere
 * after its program; `codex exec` takes the `resume <id>` subcommand before the final `-`
 * (read the prompt from stdin), after the exec options.
 */
function withResume(engine: "claude" | "codex" | "anthropic", argv: string[], sessionId: string): string[] {
  if (sessionId === "" || sessionId.startsWith("-")) throw new AppError("invalid_input", `invalid session id ${JSON.stringify(sessionId)}`);
  if (engine === "claude") return [...argv, "--resume", sessionId];
  if (engine === "codex" && argv.at(-1) === "-") return [...argv.slice(0, -1), "resume", sessionId, "-"];
  throw new AppError("not_supported", `the ${engine} engine cannot continue a session`);
}
