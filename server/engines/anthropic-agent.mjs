#!/usr/bin/env node
// @ts-check
/**
 * The built-in `anthropic` engine: an agent loop on `@anthropic-ai/sdk` (Messages API, streaming,
 * tool use) whose tools (./anthropic-agent-tools.mjs) are confined to its cwd, the lane's
 * worktree.
 *
 * Usage: `node anthropic-agent.mjs <task.json>` in the worktree, where task.json is
 *   { prompt, model?, maxTurns?, maxTokens?, maxRetries?, retryBaseMs?, system? }
 * and the SDK takes `ANTHROPIC_BASE_URL` and `ANTHROPIC_API_KEY` from the environment.
 *
 * Output: one JSON object per line on stdout in the engine signal vocabulary
 * (server/engines/engine-events.ts): `ready`, `message`, `tool_use`, `tool_result`, `usage`
 * (running totals), `warning` (e.g. a retry), and a final `result`.
 * Exit code: 0 success; 1 the run failed (API error after retries, 401, turn limit); 2 bad
 * task file.
 *
 * Retries: 429, 5xx (incl. 529 overloaded) and connection errors are retried up to
 * `maxRetries` times (default 5) with exponential backoff `retryBaseMs * 2^n` (default 1000 ms,
 * capped at 60 s) or the server's `retry-after` when it sends one. A 401 or 403 is fatal at once
 * (failure class `provider_auth`), with a message naming the key variable. The SDK's own retries are off so each retry is reported.
 *
 * Plain Node ESM (checked with `// @ts-check`): it runs with `node` from any cwd. The bare
 * import of `@anthropic-ai/sdk` resolves from this file's location (Node resolves packages
 * relative to the importing module, not the cwd), i.e. the app's node_modules.
 */
import fs from "node:fs";
import Anthropic from "@anthropic-ai/sdk";
import { TOOL_DEFINITIONS, runTool } from "./anthropic-agent-tools.mjs";

const DEFAULT_SYSTEM =
  "You are a coding agent working in a git worktree. Use the tools to read, change and test files; paths are relative to the worktree root. When the task is done, reply with a short summary.";
const MAX_BACKOFF_MS = 60_000;
/** Claude Code 2.1's default model; not one the SDK warns about as deprecated. */
const DEFAULT_MODEL = "claude-opus-4-8";

/** @param {Record<string, unknown>} signal */
function emit(signal) {
  process.stdout.write(`${JSON.stringify(signal)}\n`);
}

/** @param {string} text @param {number} [max] */
function clip(text, max = 8000) {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @typedef {{ prompt: string, model: string, maxTurns: number, maxTokens: number, maxRetries: number, retryBaseMs: number, system: string }} Task
 * @param {string | undefined} file @returns {Task}
 */
function readTask(file) {
  if (!file) throw new Error("usage: anthropic-agent.mjs <task.json>");
  const t = JSON.parse(fs.readFileSync(file, "utf8"));
  if (!t || typeof t.prompt !== "string" || t.prompt === "") throw new Error("task.prompt must be a non-empty string");
  const int = (/** @type {unknown} */ v, /** @type {number} */ d) => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : d);
  return {
    prompt: t.prompt,
    model: typeof t.model === "string" && t.model ? t.model : DEFAULT_MODEL,
    maxTurns: int(t.maxTurns, 50),
    maxTokens: int(t.maxTokens, 8192),
    maxRetries: int(t.maxRetries, 5),
    retryBaseMs: int(t.retryBaseMs, 1000),
    system: typeof t.system === "string" ? t.system : DEFAULT_SYSTEM,
  };
}

/** A run-ending failure, reported as the final result. */
class FatalError extends Error {
  /** @param {string} message @param {string} failureClass */
  constructor(message, failureClass) {
    super(message);
    this.failureClass = failureClass;
  }
}

/**
 * Delay before retry `attempt` (0-based), or null when `err` is not retryable.
 * @param {unknown} err @param {number} attempt @param {number} baseMs
 */
function retryDelay(err, attempt, baseMs) {
  if (!(err instanceof Anthropic.APIError)) return null;
  const status = err.status;
  const retryable = status === undefined ? err instanceof Anthropic.APIConnectionError || err.type === "overloaded_error" || err.type === "api_error" : status === 429 || status >= 500;
  if (!retryable) return null;
  const header = err.headers?.get("retry-after");
  const seconds = header !== null && header !== undefined ? Number(header) : NaN;
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_BACKOFF_MS);
  return Math.min(baseMs * 2 ** attempt, MAX_BACKOFF_MS);
}

/** @param {unknown} err */
function describe(err) {
  if (err instanceof Anthropic.APIError) return `${err.status ?? "stream"} ${err.type ?? ""}: ${err.apiMessage ?? err.message}`.replace(/\s+:/, ":");
  return String(err instanceof Error ? err.message : err);
}

/**
 * One model call (streamed), retried on 429/5xx/connection errors.
 * @param {Anthropic} client @param {Task} task @param {import("@anthropic-ai/sdk").default.MessageParam[]} messages
 */
async function callModel(client, task, messages) {
  for (let attempt = 0; ; attempt++) {
    try {
      const stream = client.messages.stream({ model: task.model, max_tokens: task.maxTokens, system: task.system, tools: /** @type {any} */ (TOOL_DEFINITIONS), messages });
      return await stream.finalMessage();
    } catch (err) {
      if (err instanceof Anthropic.APIError && (err.status === 401 || err.status === 403)) {
        throw new FatalError(`model API rejected the credentials (${err.status} ${err.apiMessage ?? err.message}); check ANTHROPIC_API_KEY`, "provider_auth");
      }
      const delay = retryDelay(err, attempt, task.retryBaseMs);
      if (delay === null) throw new FatalError(`model API error: ${describe(err)}`, "infra");
      if (attempt >= task.maxRetries) throw new FatalError(`model API error after ${attempt + 1} attempts: ${describe(err)}`, "infra");
      emit({ kind: "warning", message: `model API ${describe(err)}; retry ${attempt + 1}/${task.maxRetries} in ${delay} ms`, line: "" });
      await sleep(delay);
    }
  }
}

async function main() {
  /** @type {Task} */
  let task;
  try {
    task = readTask(process.argv[2]);
  } catch (err) {
    emit({ kind: "result", ok: false, text: `bad task: ${/** @type {Error} */ (err).message}`, failureClass: "tool_runtime" });
    process.exitCode = 2;
    return;
  }
  const root = fs.realpathSync(process.cwd());
  const client = new Anthropic({ maxRetries: 0 });
  emit({ kind: "ready", model: task.model, cwd: root });
  /** @type {import("@anthropic-ai/sdk").default.MessageParam[]} */
  const messages = [{ role: "user", content: task.prompt }];
  let inputTokens = 0;
  let outputTokens = 0;
  let lastText = "";
  for (let turn = 1; turn <= task.maxTurns; turn++) {
    const msg = await callModel(client, task, messages);
    inputTokens += msg.usage.input_tokens + (msg.usage.cache_read_input_tokens ?? 0) + (msg.usage.cache_creation_input_tokens ?? 0);
    outputTokens += msg.usage.output_tokens;
    emit({ kind: "usage", inputTokens, outputTokens });
    messages.push({ role: "assistant", content: msg.content });
    /** @type {import("@anthropic-ai/sdk").default.ToolResultBlockParam[]} */
    const results = [];
    for (const block of msg.content) {
      if (block.type === "text" && block.text) {
        lastText = block.text;
        emit({ kind: "message", text: clip(block.text) });
      } else if (block.type === "tool_use") {
        emit({ kind: "tool_use", name: block.name, input: block.input, id: block.id });
        const r = await runTool(root, block.name, block.input);
        emit({ kind: "tool_result", isError: r.isError, text: clip(r.text), id: block.id });
        results.push({ type: "tool_result", tool_use_id: block.id, content: r.text, is_error: r.isError });
      }
    }
    if (results.length === 0) {
      emit({ kind: "result", ok: true, turns: turn, text: clip(lastText) });
      return;
    }
    messages.push({ role: "user", content: results });
  }
  throw new FatalError(`stopped after ${task.maxTurns} turns without finishing`, "budget_exceeded");
}

main().catch((err) => {
  const failureClass = err instanceof FatalError ? err.failureClass : "tool_runtime";
  emit({ kind: "result", ok: false, text: clip(err instanceof Error ? err.message : String(err)), failureClass });
  process.exitCode = 1;
});
