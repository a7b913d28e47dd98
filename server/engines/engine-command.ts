/**
 * The engine registry and the worker command built from it. {@link ENGINE_REGISTRY} is the one list of
 * engines and what each is: how its worker is prepared, the adapter that reads its stdout,
 * whether it is a coding agent (talks to a model API with a key, reports structured output)
 * and whether a follow-up can resume its session. The lane runner (through
 * {@link prepareWorker}), the worker monitor ({@link createEngineAdapter}), recovery and the
 * worker service ({@link engineDefinition}) all read it.
 *
 * {@link prepareWorker} turns the packet's {@link WorkerSpec} into the argv, extra environment
 * and stdin mode the process supervisor starts in the lane's worktree, plus (for agent engines)
 * the adapter that reads the worker's stdout.
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
import { ENGINE_TRAITS, type Engine, type WorkerSpec } from "@/lib/task-packet";
import { ANTHROPIC_SECRET_ENV, OPENAI_SECRET_ENV } from "../processes/child-env";
import type { StdinMode } from "../processes/wrapper";
import { AGENT_ENGINES, prepareAgentWorker, type AgentEngine, type AgentEngineDefinition, type AgentEngineSettings } from "./agent-engines";
import type { EngineAdapter } from "./engine-events";

export type { AgentEngineSettings } from "./agent-engines";

/**
 * Absolute path of the script agent. Resolved next to this module, which holds as long as the
 * server runs from source (tsx, vitest); a bundler that moves this file must copy the agent too.
 */
export const SCRIPT_AGENT_PATH = fileURLToPath(new URL("./script-agent.mjs", import.meta.url));

/** File name of the script engine's steps inside the lane directory. */
export const SCRIPT_FILE_NAME = "script.json";

export interface WorkerContext {
  /** The lane's private directory under the data dir (created if missing). */
  laneDir: string;
  /** The lane's worktree: the worker's cwd. */
  worktreePath: string;
  /** Continue this agent session (a follow-up); only for engines that resume ({@link EngineDefinition.resume}). */
  resumeSessionId?: string;
}

export interface PreparedWorker {
  /** Program and arguments; the first element is the program. Never joined into a shell string. */
  argv: string[];
  /** Variables added to the server's environment for the worker (the packet's `worker.env` last). */
  env: Record<string, string>;
  /**
   * The server's withheld secrets (server/processes/child-env.ts) this worker may inherit: its
   * engine's {@link EngineDefinition.secretEnv}.
   */
  secretEnv: readonly string[];
  /** stdin for the supervisor; absent: its default (a FIFO the server can write to). */
  stdin?: StdinMode;
  /** Engines with structured output: a fresh parser for this worker's stdout lines. */
  createAdapter?: () => EngineAdapter;
}

/** One engine of the registry. */
export interface EngineDefinition {
  /** A coding agent: it talks to a model API (base URL and key from the settings), reports structured output, and its boot errors are output. */
  agent: boolean;
  /**
   * The model API credentials in the server's environment this engine uses and may inherit
   * (server/processes/child-env.ts); none for `shell` and `script`, which run no model.
   */
  secretEnv: readonly string[];
  /**
   * The argv of a follow-up that continues session `sessionId` (Claude Code `--resume`, `codex exec
   * resume`), or null when this argv cannot take it; absent when the engine keeps no session.
   */
  resume?: (argv: string[], sessionId: string) => string[] | null;
  /** Prepare the worker's process (see {@link prepareWorker}); `resumeSessionId` is applied afterwards. */
  prepare(worker: WorkerSpec, ctx: WorkerContext, settings: AgentEngineSettings): Promise<Omit<PreparedWorker, "secretEnv">>;
  /** A fresh parser of the worker's stdout lines; null for plain-text output. */
  createAdapter(): EngineAdapter | null;
}

function agentEngine(engine: AgentEngine, secretEnv: readonly string[]): EngineDefinition {
  const definition: AgentEngineDefinition = AGENT_ENGINES[engine];
  return {
    agent: ENGINE_TRAITS[engine].agent,
    secretEnv,
    ...(ENGINE_TRAITS[engine].resumes && definition.resume ? { resume: definition.resume } : {}),
    prepare: (worker, ctx, settings) => prepareAgentWorker(engine, worker, ctx, settings),
    createAdapter: definition.createAdapter,
  };
}

/** The engines, by name (the task packet's `worker.engine`). */
export const ENGINE_REGISTRY: Readonly<Record<Engine, EngineDefinition>> = {
  claude: agentEngine("claude", ANTHROPIC_SECRET_ENV),
  codex: agentEngine("codex", OPENAI_SECRET_ENV),
  anthropic: agentEngine("anthropic", ANTHROPIC_SECRET_ENV),
  shell: {
    agent: ENGINE_TRAITS.shell.agent,
    secretEnv: [],
    async prepare(worker) {
      if (!worker.command) throw new AppError("invalid_input", "the shell engine needs a command");
      return { argv: [...worker.command], env: { ...worker.env } };
    },
    createAdapter: () => null,
  },
  script: {
    agent: ENGINE_TRAITS.script.agent,
    secretEnv: [],
    async prepare(worker, ctx) {
      if (!worker.script) throw new AppError("invalid_input", "the script engine needs script steps");
      await fs.access(SCRIPT_AGENT_PATH).catch(() => {
        throw new AppError("internal", `script agent not found at ${SCRIPT_AGENT_PATH}`);
      });
      await fs.mkdir(ctx.laneDir, { recursive: true });
      const file = path.join(path.resolve(ctx.laneDir), SCRIPT_FILE_NAME);
      await fs.writeFile(file, `${JSON.stringify(worker.script, null, 2)}\n`);
      return { argv: [process.execPath, SCRIPT_AGENT_PATH, file], env: { ...worker.env } };
    },
    createAdapter: () => null,
  },
};

/** The registry entry of an engine name read from a row; null for a name that is not an engine. */
export function engineDefinition(engine: string): EngineDefinition | null {
  return Object.hasOwn(ENGINE_REGISTRY, engine) ? ENGINE_REGISTRY[engine as Engine] : null;
}

/**
 * A fresh stdout adapter for `engine`, or null for engines whose output is plain text
 * (`shell`, `script`). Used to rebuild a worker's adapter after a server restart.
 */
export function createEngineAdapter(engine: string): EngineAdapter | null {
  return engineDefinition(engine)?.createAdapter() ?? null;
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
  const definition = ENGINE_REGISTRY[worker.engine];
  if (ctx.resumeSessionId !== undefined && !definition.resume) {
    throw new AppError("not_supported", `the ${worker.engine} engine cannot continue a session`);
  }
  const prepared = { ...(await definition.prepare(worker, ctx, settings)), secretEnv: definition.secretEnv };
  if (ctx.resumeSessionId === undefined) return prepared;
  const sessionId = ctx.resumeSessionId;
  if (sessionId === "" || sessionId.startsWith("-")) throw new AppError("invalid_input", `invalid session id ${JSON.stringify(sessionId)}`);
  const argv = definition.resume?.(prepared.argv, sessionId);
  if (!argv) throw new AppError("not_supported", `the ${worker.engine} engine cannot continue a session`);
  return { ...prepared, argv };
}
