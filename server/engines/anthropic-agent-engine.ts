/**
 * The `anthropic` engine seen from the server: how to start the built-in agent
 * (./anthropic-agent.mjs, a child process) and the adapter for its output, which already is
 * one engine signal per line; the adapter validates each line against the signal vocabulary
 * so a broken or foreign line becomes a `warning`, never a crash.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { FailureClassSchema } from "@/lib/lane-state";
import { type EngineExit, type EngineSignal, JsonLinesAdapter, missingResult, warning } from "./engine-events";

/** Absolute path of the agent script (beside this module; a bundler must copy it and its tools file). */
export const ANTHROPIC_AGENT_PATH = fileURLToPath(new URL("./anthropic-agent.mjs", import.meta.url));

/** File name of the agent's task inside the lane directory. */
export const ANTHROPIC_TASK_FILE = "anthropic-task.json";

/** The task file the agent reads (see anthropic-agent.mjs). */
export interface AnthropicTask {
  prompt: string;
  model?: string;
  maxTurns?: number;
  maxTokens?: number;
  /** Retries on 429/5xx/connection errors (default 5). */
  maxRetries?: number;
  /** First backoff step (ms, default 1000), doubled per retry unless the server sends `retry-after`. */
  retryBaseMs?: number;
  system?: string;
}

/**
 * Write the task to `<laneDir>/anthropic-task.json` (overwritten on restart) and return the argv.
 * The SDK reads `ANTHROPIC_BASE_URL` / `ANTHROPIC_API_KEY` from the worker's environment.
 */
export async function anthropicAgentArgv(task: AnthropicTask, laneDir: string): Promise<string[]> {
  await fs.mkdir(laneDir, { recursive: true });
  const file = path.join(path.resolve(laneDir), ANTHROPIC_TASK_FILE);
  await fs.writeFile(file, `${JSON.stringify(task, null, 2)}\n`);
  return [process.execPath, ANTHROPIC_AGENT_PATH, file];
}

const SignalSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ready"), sessionId: z.string().optional(), model: z.string().optional(), cwd: z.string().optional() }),
  z.object({ kind: z.literal("message"), text: z.string() }),
  z.object({ kind: z.literal("tool_use"), name: z.string(), input: z.unknown(), id: z.string().optional() }),
  z.object({ kind: z.literal("tool_result"), isError: z.boolean(), text: z.string(), id: z.string().optional() }),
  z.object({ kind: z.literal("usage"), inputTokens: z.number().min(0), outputTokens: z.number().min(0), costUsd: z.number().optional() }),
  z.object({ kind: z.literal("result"), ok: z.boolean(), turns: z.number().int().optional(), costUsd: z.number().optional(), text: z.string(), failureClass: FailureClassSchema.optional() }),
  z.object({ kind: z.literal("warning"), message: z.string(), line: z.string() }),
]);

/** Parses the built-in agent's stdout (engine signals, one per line). */
export class AnthropicAgentAdapter extends JsonLinesAdapter {
  #sawResult = false;

  /** The agent prints our own signal vocabulary; validate it rather than translate it. */
  protected interpret(value: Record<string, unknown>, line: string): EngineSignal[] {
    const parsed = SignalSchema.safeParse(value);
    if (!parsed.success) {
      const kind = value.kind;
      const known = SignalSchema.options.some((o) => o.shape.kind.value === kind);
      return [warning(known ? `malformed ${String(kind)} signal: ${parsed.error.issues[0]?.message ?? "invalid"}` : `unknown signal kind ${JSON.stringify(kind)}`, line)];
    }
    const signal = parsed.data as EngineSignal;
    if (signal.kind === "result") this.#sawResult = true;
    return [signal];
  }

  end(exit: EngineExit): EngineSignal[] {
    const out = this.reader.flush();
    if (!this.#sawResult) out.push(missingResult("anthropic agent", exit));
    return out;
  }
}
