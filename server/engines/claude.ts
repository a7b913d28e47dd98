/**
 * The `claude` engine: Claude Code headless, `claude -p --output-format stream-json --verbose`.
 *
 * Output format (observed with Claude Code 2.1.197 against the local model server; the Agent
 * SDK documents the same message types): one JSON object per line,
 * - `{type:"system", subtype:"init", session_id, model, tools, cwd, …}` first → `ready`;
 *   `{type:"system", subtype:"api_retry", attempt, error_status, …}` when it retries → `warning`;
 *   other `system` subtypes (hooks, status, compaction) are ignored;
 * - `{type:"assistant", message:{id, content:[…]}}`, one line per content block: `text` →
 *   `message`, `tool_use` (`id`, `name`, `input`) → `tool_use`; `thinking` ignored;
 * - `{type:"user", message:{content:[{type:"tool_result", tool_use_id, content, is_error}]}}` →
 *   `tool_result`;
 * - `{type:"result", subtype:"success"|"error_max_turns"|"error_during_execution"|…, is_error,
 *   num_turns, result, total_cost_usd, usage, modelUsage, api_error_status}` last → `usage` +
 *   `result`. Token totals come from `modelUsage` (summed over models) when present, because
 *   `usage` leaves out Claude Code's side requests (e.g. the session title) that
 *   `total_cost_usd` includes.
 *   Each `permission_denials` entry (a tool call refused, e.g. a write outside the worktree) →
 *   `warning`.
 * - `stream_event`, `rate_limit_event`, `control_*` are known and ignored.
 */
import type { FailureClass } from "@/lib/lane-state";
import { type EngineExit, type EngineSignal, JsonLinesAdapter, blockText, clip, missingResult, num, rec, warning } from "./engine-events";

/**
 * Tools a lane's Claude Code may use without asking (there is nobody to ask in `-p` mode). File
 * edits are NOT listed: allowing `Edit`/`Write` by name lets them write anywhere (checked: a
 * scripted `Write` of `../outside.txt` and of an absolute path both succeeded). Instead the
 * permission mode `acceptEdits` accepts edits inside the working directory only; an edit
 * outside needs a permission nobody can give, so it fails as a tool error.
 */
export const DEFAULT_CLAUDE_TOOLS = ["Bash", "Read", "Glob", "Grep", "TodoWrite"];

/** See {@link DEFAULT_CLAUDE_TOOLS}. */
export const DEFAULT_CLAUDE_PERMISSION_MODE = "acceptEdits";

export interface ClaudeArgvOptions {
  /** Program and leading arguments for `claude` (default: engine-env `defaultClaudeBin`). */
  bin: string[];
  allowedTools?: string[];
  /** `--permission-mode`; default {@link DEFAULT_CLAUDE_PERMISSION_MODE}. */
  permissionMode?: string;
  model?: string;
  /** Stop after this many agent turns (`--max-turns`). */
  maxTurns?: number;
  /** Extra arguments appended as given (e.g. `--max-budget-usd 2`). */
  extraArgs?: string[];
}

/**
 * The argv of a headless Claude Code run that reads its prompt from stdin. As root,
 * `--dangerously-skip-permissions` is refused, so tools are allowed by name and edits by
 * permission mode instead. Bash commands are not confined: they run as the server's user.
 * @returns program and arguments (no prompt: it goes to stdin, see engine-env `stdinFromFile`)
 */
export function claudeArgv(opts: ClaudeArgvOptions): string[] {
  const argv = [...opts.bin, "-p", "--output-format", "stream-json", "--verbose"];
  argv.push("--permission-mode", opts.permissionMode ?? DEFAULT_CLAUDE_PERMISSION_MODE);
  argv.push("--allowedTools", (opts.allowedTools ?? DEFAULT_CLAUDE_TOOLS).join(","));
  if (opts.model) argv.push("--model", opts.model);
  if (opts.maxTurns !== undefined) argv.push("--max-turns", String(opts.maxTurns));
  return [...argv, ...(opts.extraArgs ?? [])];
}

const IGNORED_TYPES = new Set(["stream_event", "rate_limit_event", "control_request", "control_response", "control_cancel_request", "keep_alive", "prompt_suggestion"]);

/** Failure class for a failed Claude Code result. */
function claudeFailureClass(r: Record<string, unknown>): FailureClass {
  const subtype = String(r.subtype ?? "");
  if (subtype === "error_max_turns" || subtype.startsWith("error_max_budget")) return "budget_exceeded";
  const status = num(r.api_error_status);
  // Rejected credentials are fixed by a person, not by a restart.
  if (status === 401 || status === 403) return "provider_auth";
  // Any other API error (rate limit, overload, 5xx after retries) is the model provider's: infra.
  if (status !== undefined) return "infra";
  return "tool_runtime";
}

/** Parses `claude -p --output-format stream-json --verbose` stdout. */
export class ClaudeStreamAdapter extends JsonLinesAdapter {
  /** Whether the result line said ok; null until it arrives. */
  #resultOk: boolean | null = null;


  end(exit: EngineExit): EngineSignal[] {
    const out = this.reader.flush();
    if (this.#resultOk === null) out.push(missingResult("claude", exit));
    else if (this.#resultOk && exit.exitCode !== 0) out.push(warning(`claude exited with ${exit.signal ?? `code ${exit.exitCode}`} after a successful result`, ""));
    return out;
  }

  protected interpret(e: Record<string, unknown>, line: string): EngineSignal[] {
    switch (e.type) {
      case "system":
        if (e.subtype === "init") {
          return [{
            kind: "ready",
            ...(typeof e.session_id === "string" ? { sessionId: e.session_id } : {}),
            ...(typeof e.model === "string" ? { model: e.model } : {}),
            ...(typeof e.cwd === "string" ? { cwd: e.cwd } : {}),
          }];
        }
        if (e.subtype === "api_retry") return [warning(`model API retry ${num(e.attempt) ?? "?"}/${num(e.max_retries) ?? "?"} after status ${String(e.error_status ?? e.error ?? "?")}`, line)];
        return [];
      case "assistant":
        return this.#assistant(e, line);
      case "user": {
        const blocks = contentBlocks(e);
        if (!blocks) return [warning("user line without message content", line)];
        return blocks.flatMap((b): EngineSignal[] =>
          b.type === "tool_result"
            ? [{ kind: "tool_result", isError: b.is_error === true, text: clip(blockText(b.content)), ...(typeof b.tool_use_id === "string" ? { id: b.tool_use_id } : {}) }]
            : [],
        );
      }
      case "result":
        return this.#result(e, line);
      default:
        if (typeof e.type === "string" && IGNORED_TYPES.has(e.type)) return [];
        return [warning(`unknown event type ${JSON.stringify(e.type)}`, line)];
    }
  }

  #assistant(e: Record<string, unknown>, line: string): EngineSignal[] {
    const blocks = contentBlocks(e);
    if (!blocks) return [warning("assistant line without message content", line)];
    const out: EngineSignal[] = [];
    for (const b of blocks) {
      if (b.type === "text" && typeof b.text === "string") out.push({ kind: "message", text: clip(b.text) });
      else if (b.type === "tool_use" && typeof b.name === "string") out.push({ kind: "tool_use", name: b.name, input: b.input ?? {}, ...(typeof b.id === "string" ? { id: b.id } : {}) });
    }
    return out;
  }

  #result(r: Record<string, unknown>, line: string): EngineSignal[] {
    const out: EngineSignal[] = [];
    for (const d of Array.isArray(r.permission_denials) ? r.permission_denials.map(rec) : []) {
      out.push(warning(`permission denied for ${String(d.tool_name ?? "a tool")}`, JSON.stringify(d)));
    }
    const costUsd = num(r.total_cost_usd);
    const totals = usageTotals(r);
    if (totals) out.push({ kind: "usage", ...totals, ...(costUsd !== undefined ? { costUsd } : {}) });
    const ok = r.is_error === false && r.subtype === "success";
    this.#resultOk = ok;
    if (r.is_error !== true && r.is_error !== false) out.push(warning("result without is_error", line));
    const errors = Array.isArray(r.errors) ? r.errors.map(String).join("; ") : "";
    const text = typeof r.result === "string" ? r.result : errors || String(r.subtype ?? "");
    out.push({
      kind: "result",
      ok,
      text: clip(text),
      ...(num(r.num_turns) !== undefined ? { turns: num(r.num_turns) } : {}),
      ...(costUsd !== undefined ? { costUsd } : {}),
      ...(ok ? {} : { failureClass: claudeFailureClass(r) }),
    });
    return out;
  }
}

/** The content blocks of an `assistant`/`user` line's message; null when it has none. */
function contentBlocks(e: Record<string, unknown>): Record<string, unknown>[] | null {
  const content = rec(e.message).content;
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? content.map(rec) : null;
}

/** Input tokens include cache reads and writes: they are tokens the model read. */
function usageTotals(r: Record<string, unknown>): { inputTokens: number; outputTokens: number } | null {
  const models = Object.values(rec(r.modelUsage)).map(rec);
  if (models.length > 0) {
    let inputTokens = 0;
    let outputTokens = 0;
    for (const m of models) {
      inputTokens += (num(m.inputTokens) ?? 0) + (num(m.cacheReadInputTokens) ?? 0) + (num(m.cacheCreationInputTokens) ?? 0);
      outputTokens += num(m.outputTokens) ?? 0;
    }
    return { inputTokens, outputTokens };
  }
  const u = rec(r.usage);
  if (num(u.input_tokens) === undefined && num(u.output_tokens) === undefined) return null;
  return {
    inputTokens: (num(u.input_tokens) ?? 0) + (num(u.cache_read_input_tokens) ?? 0) + (num(u.cache_creation_input_tokens) ?? 0),
    outputTokens: num(u.output_tokens) ?? 0,
  };
}
