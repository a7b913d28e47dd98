/**
 * How a lane's worker is run: turns the packet's {@link WorkerSpec} into the argv and extra
 * environment the process supervisor starts in the lane's worktree.
 *
 * | engine | argv |
 * | --- | --- |
 * | `script` | `[node, <abs>/script-agent.mjs, <laneDir>/script.json]` (steps written there; `command` is ignored) |
 * | `shell` | the packet's `command` as given |
 * | `claude`, `codex`, `anthropic` | not available yet: `invalid_input` |
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "@/lib/errors";
import type { WorkerSpec } from "@/lib/task-packet";

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
}

export interface PreparedWorker {
  /** Program and arguments; the first element is the program. Never joined into a shell string. */
  argv: string[];
  /** Variables added to the server's environment for the worker (the packet's `worker.env`). */
  env: Record<string, string>;
}

/**
 * Prepare a worker's command line. For `script`, writes the steps to `<laneDir>/script.json`
 * (overwritten on restart, so a replayed packet runs the same steps).
 *
 * @throws AppError `invalid_input` for engines not available yet or a spec missing what its
 *   engine needs (the packet schema normally catches that first); `internal` if the script
 *   agent file is missing from the install.
 */
export async function prepareWorker(worker: WorkerSpec, ctx: WorkerContext): Promise<PreparedWorker> {
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
    case "anthropic":
      throw new AppError("invalid_input", `engine ${worker.engine} is not available yet`);
  }
}
