/**
 * The `codex` engine: `codex exec --json`, prompt on stdin (`-`).
 *
 * Output format (observed with codex-cli 0.169.0 against the local model server; the same
 * event names are documented for `codex exec --json`): one JSON object per line,
 * - `thread.started {thread_id}` → `ready`;
 * - `turn.started`; `turn.completed {usage:{input_tokens, cached_input_tokens, output_tokens, …}}`
 *   → running `usage` totals; `turn.failed {error:{message}}` → failed `result`;
 * - `item.started` / `item.updated` / `item.completed {item:{id, type, …}}` where `type` is
 *   `agent_message` (`text`) → `message`; `command_execution` (`command`, `aggregated_output`,
 *   `exit_code`, `status`) → `tool_use` `command` at start, `tool_result` at completion;
 *   `file_change` (`changes:[{path, kind}]`, `status`) → `tool_use` `file_change` +
 *   `tool_result`; `mcp_tool_call`, `web_search` likewise; `reasoning`, `todo_list` ignored;
 *   `error` (a non-fatal notice such as "Model metadata for `x` not found") → `warning`;
 * - `error {message}` (e.g. a stream retry) → `warning`.
 * Codex reports no price, so `usage` has no `costUsd`. Blind spot: a patch refused by the
 * sandbox ("writing outside of the project") has no item at all, and a command the sandbox
 * refused (e.g. `git commit` on read-only git dirs) often has none either; the model is told,
 * the JSON stream is not.
 */
import { type EngineExit, type EngineSignal, JsonLinesAdapter, clip, missingResult, num, rec, warning } from "./engine-events";

/** The model provider id Laneboard defines on Codex's command line. */
export const CODEX_PROVIDER_ID = "laneboard";
/** The variable Codex reads the provider's API key from. */
export const CODEX_API_KEY_ENV = "LANEBOARD_CODEX_API_KEY";

/** Codex's message for a rejected key: "unexpected status 401 Unauthorized: …" (fixture codex-exec-json-401.txt). */
const AUTH_REJECTED = /\bunexpected status 40[13]\b/;

export type CodexSandbox = "read-only" | "workspace-write" | "danger-full-access";

export interface CodexArgvOptions {
  /** Program and leading arguments for `codex` (default launcher: engine-env `defaultCodexArgv`). */
  bin: string[];
  model?: string;
  /** Base URL of an OpenAI Responses API, including `/v1` (e.g. `http://127.0.0.1:4010/v1`); default: OpenAI itself. */
  baseUrl?: string;
  /** Codex's command sandbox; `workspace-write` (default) lets commands write only the worktree
   * and `writableDirs` (never a `.git` directory, so no commits: checked with 0.169). */
  sandbox?: CodexSandbox;
  /** More writable directories (`--add-dir`). Adding the repo's git directory does NOT make commits work. */
  writableDirs?: string[];
  /** HTTP retries on 429/5xx by Codex itself (provider `request_max_retries`). */
  requestMaxRetries?: number;
  extraArgs?: string[];
}

/** A TOML basic string: JSON's string escapes are valid TOML (`\"`, `\\`, `\n`, `\uXXXX`). */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

/**
 * The argv of `codex exec --json` reading its prompt from stdin. With `baseUrl`, a custom model
 * provider `laneboard` speaking the Responses API is defined with `-c` overrides; its API key
 * comes from {@link CODEX_API_KEY_ENV}.
 */
export function codexArgv(opts: CodexArgvOptions): string[] {
  const sandbox = opts.sandbox ?? "workspace-write";
  const argv = [...opts.bin, "exec", "--json", "--color", "never", "--sandbox", sandbox];
  // By default workspace-write also lets commands write /tmp and $TMPDIR: the worktree only, please.
  if (sandbox === "workspace-write") argv.push("-c", "sandbox_workspace_write.exclude_slash_tmp=true", "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true");
  for (const dir of opts.writableDirs ?? []) argv.push("--add-dir", dir);
  if (opts.model) argv.push("--model", opts.model);
  if (opts.baseUrl) {
    const p = `model_providers.${CODEX_PROVIDER_ID}`;
    argv.push(
      "-c", `model_provider=${tomlString(CODEX_PROVIDER_ID)}`,
      "-c", `${p}.name=${tomlString("Laneboard")}`,
      "-c", `${p}.base_url=${tomlString(opts.baseUrl)}`,
      "-c", `${p}.wire_api=${tomlString("responses")}`,
      "-c", `${p}.env_key=${tomlString(CODEX_API_KEY_ENV)}`,
    );
    if (opts.requestMaxRetries !== undefined) argv.push("-c", `${p}.request_max_retries=${opts.requestMaxRetries}`, "-c", `${p}.stream_max_retries=${opts.requestMaxRetries}`);
  }
  return [...argv, ...(opts.extraArgs ?? []), "-"];
}

/** Parses `codex exec --json` stdout. */
export class CodexJsonAdapter extends JsonLinesAdapter {
  readonly #started = new Set<string>();
  #input = 0;
  #output = 0;
  #turns = 0;
  #lastMessage = "";
  #resultSent = false;


  end(exit: EngineExit): EngineSignal[] {
    const out = this.reader.flush();
    if (this.#resultSent) return out;
    if (exit.exitCode === 0 && this.#turns > 0) out.push({ kind: "result", ok: true, turns: this.#turns, text: this.#lastMessage });
    else out.push(missingResult("codex", exit));
    return out;
  }

  protected interpret(e: Record<string, unknown>, line: string): EngineSignal[] {
    switch (e.type) {
      case "thread.started":
        return [{ kind: "ready", ...(typeof e.thread_id === "string" ? { sessionId: e.thread_id } : {}) }];
      case "turn.started":
        return [];
      case "turn.completed": {
        this.#turns++;
        const u = rec(e.usage);
        if (num(u.input_tokens) === undefined && num(u.output_tokens) === undefined) return [warning("turn.completed without usage", line)];
        this.#input += num(u.input_tokens) ?? 0;
        this.#output += num(u.output_tokens) ?? 0;
        return [{ kind: "usage", inputTokens: this.#input, outputTokens: this.#output }];
      }
      case "turn.failed": {
        this.#turns++;
        this.#resultSent = true;
        const message = String(rec(e.error).message ?? "turn failed");
        return [{ kind: "result", ok: false, turns: this.#turns, text: clip(message), failureClass: AUTH_REJECTED.test(message) ? "provider_auth" : "infra" }];
      }
      case "item.started":
      case "item.updated":
      case "item.completed":
        return this.#item(e.type, rec(e.item), line);
      case "error":
        return [warning(`codex: ${String(e.message ?? "error")}`, line)];
      default:
        return [warning(`unknown event type ${JSON.stringify(e.type)}`, line)];
    }
  }

  #item(phase: string, item: Record<string, unknown>, line: string): EngineSignal[] {
    const id = typeof item.id === "string" ? item.id : undefined;
    const tool = toolOf(item);
    if (tool) {
      const out: EngineSignal[] = [];
      if (id === undefined || !this.#started.has(id)) {
        if (id !== undefined) this.#started.add(id);
        out.push({ kind: "tool_use", name: tool.name, input: tool.input, ...(id ? { id } : {}) });
      }
      if (phase === "item.completed") out.push({ kind: "tool_result", isError: tool.isError, text: clip(tool.output), ...(id ? { id } : {}) });
      return out;
    }
    if (phase !== "item.completed") return [];
    switch (item.type) {
      case "agent_message":
        this.#lastMessage = String(item.text ?? "");
        return [{ kind: "message", text: clip(this.#lastMessage) }];
      case "reasoning":
      case "todo_list":
        return [];
      case "error":
        return [warning(`codex: ${String(item.message ?? "error item")}`, line)];
      default:
        return [warning(`unknown item type ${JSON.stringify(item.type)}`, line)];
    }
  }
}

/** A tool-like item's name, input, output and error flag; null for other items. */
function toolOf(item: Record<string, unknown>): { name: string; input: unknown; output: string; isError: boolean } | null {
  const failed = item.status === "failed" || item.status === "declined";
  switch (item.type) {
    case "command_execution": {
      const exitCode = num(item.exit_code);
      return { name: "command", input: { command: item.command }, output: String(item.aggregated_output ?? ""), isError: failed || (exitCode !== undefined && exitCode !== 0) };
    }
    case "file_change": {
      const changes = Array.isArray(item.changes) ? item.changes.map(rec) : [];
      return { name: "file_change", input: { changes }, output: changes.map((c) => `${String(c.kind)} ${String(c.path)}`).join("\n"), isError: failed };
    }
    case "mcp_tool_call":
      return { name: `${String(item.server ?? "mcp")}.${String(item.tool ?? "tool")}`, input: item.arguments ?? {}, output: JSON.stringify(item.result ?? item.error ?? null), isError: failed || item.error != null };
    case "web_search":
      return { name: "web_search", input: { query: item.query }, output: "", isError: failed };
    default:
      return null;
  }
}
