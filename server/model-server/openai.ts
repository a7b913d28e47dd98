/**
 * The OpenAI Responses API dialect of the model server (`POST /v1/responses`), as used by the
 * Codex CLI with a custom model provider (`wire_api = "responses"`).
 *
 * Formats follow OpenAI's API reference ("Responses", "Streaming events"):
 * `response.created` → `response.in_progress` → per output item `response.output_item.added`,
 * its deltas (`response.output_text.delta` inside `response.content_part.added/done` for a
 * message, `response.function_call_arguments.delta/done` for a function call,
 * `response.custom_tool_call_input.delta/done` for a freeform custom tool) and
 * `response.output_item.done` → `response.completed` with the whole response and `usage`.
 * Errors: `{ error: { message, type, param, code } }` with the HTTP status.
 */
import type { ServerResponse } from "node:http";
import type { ParsedTurn, ScriptFailure, ScriptRequest } from "./script";
import { estimateTokens } from "./script";
import type { SentUsage } from "./anthropic";
import { asArray, asRecord, chunkText, contentText, sendEvent, sendJson, startSse } from "./sse";

/** Item types the model produces: a run of them in the input history is one earlier model turn. */
const MODEL_ITEM_TYPES = new Set(["function_call", "custom_tool_call", "reasoning", "local_shell_call", "web_search_call"]);

/** Normalize a Responses API request body. */
export function parseOpenAiRequest(body: unknown, bodyBytes: number): ScriptRequest {
  const b = asRecord(body);
  const userTexts: string[] = [];
  let turnIndex = 0;
  let inModelRun = false;
  let toolResults: ScriptRequest["toolResults"] = [];
  const extraTools: unknown[] = [];
  const input = typeof b.input === "string" ? [{ role: "user", content: b.input }] : asArray(b.input);
  for (const raw of input) {
    const item = asRecord(raw);
    const type = typeof item.type === "string" ? item.type : "message";
    const isModel = MODEL_ITEM_TYPES.has(type) || (type === "message" && item.role === "assistant");
    if (isModel) {
      if (!inModelRun) {
        turnIndex++;
        toolResults = [];
      }
      inModelRun = true;
      continue;
    }
    inModelRun = false;
    // Codex sends tools for some models as an input item instead of the `tools` field.
    if (type === "additional_tools") extraTools.push(...asArray(item.tools));
    if (type === "message" && item.role === "user") userTexts.push(contentText(item.content));
    if (type === "function_call_output" || type === "custom_tool_call_output") {
      const out = item.output;
      const rec = asRecord(out);
      toolResults.push({ text: typeof out === "string" ? out : contentText(rec.content ?? out), isError: rec.success === false });
    }
  }
  const tools = flattenTools([...asArray(b.tools), ...extraTools]);
  return { api: "openai", model: String(b.model ?? ""), stream: b.stream === true, userTexts, turnIndex, tools, toolResults, bodyBytes };
}

/** Tool definitions with `namespace` groups flattened. */
function flattenTools(defs: unknown[]): ScriptRequest["tools"] {
  return defs.map(asRecord).flatMap((t): ScriptRequest["tools"] =>
    t.type === "namespace"
      ? flattenTools(asArray(t.tools))
      : [{ name: String(t.name ?? t.type ?? ""), kind: t.type === "function" ? "function" : t.type === "custom" ? "custom" : "other" }],
  );
}

type OutputItem =
  | { type: "message"; id: string; status: string; role: "assistant"; content: { type: "output_text"; text: string; annotations: [] }[] }
  | { type: "function_call"; id: string; status: string; call_id: string; name: string; arguments: string }
  | { type: "custom_tool_call"; id: string; status: string; call_id: string; name: string; input: string };

function buildItems(turn: ParsedTurn, req: ScriptRequest, newId: (p: string) => string): OutputItem[] {
  const items: OutputItem[] = [];
  if (turn.text !== undefined) items.push({ type: "message", id: newId("msg_"), status: "completed", role: "assistant", content: [{ type: "output_text", text: turn.text, annotations: [] }] });
  for (const call of turn.toolCalls) {
    const callId = call.id ?? newId("call_");
    const asString = typeof call.input === "string" ? call.input : JSON.stringify(call.input);
    const custom = req.tools.find((t) => t.name === call.name)?.kind === "custom";
    items.push(
      custom
        ? { type: "custom_tool_call", id: newId("ctc_"), status: "completed", call_id: callId, name: call.name, input: asString }
        : { type: "function_call", id: newId("fc_"), status: "completed", call_id: callId, name: call.name, arguments: asString },
    );
  }
  return items;
}

/** Answer a request with a scripted turn (streaming or not). Returns the usage sent. */
export function sendOpenAiTurn(res: ServerResponse, turn: ParsedTurn, req: ScriptRequest, newId: (p: string) => string): SentUsage {
  const items = buildItems(turn, req, newId);
  const inputTokens = turn.usage?.inputTokens ?? estimateTokens(req.bodyBytes);
  const outputTokens = turn.usage?.outputTokens ?? estimateTokens(Buffer.byteLength(JSON.stringify(items)));
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
  const base = { id: newId("resp_"), object: "response", created_at: Math.floor(Date.now() / 1000), model: req.model || "scripted-model" };
  if (!req.stream) {
    sendJson(res, 200, { ...base, status: "completed", output: items, usage });
    return { inputTokens, outputTokens };
  }
  startSse(res);
  let seq = 0;
  const emit = (type: string, data: Record<string, unknown>) => sendEvent(res, type, { type, sequence_number: seq++, ...data });
  emit("response.created", { response: { ...base, status: "in_progress", output: [] } });
  emit("response.in_progress", { response: { ...base, status: "in_progress", output: [] } });
  items.forEach((item, output_index) => {
    if (item.type === "message") {
      const text = item.content[0]!.text;
      emit("response.output_item.added", { output_index, item: { ...item, status: "in_progress", content: [] } });
      const part = { item_id: item.id, output_index, content_index: 0 };
      emit("response.content_part.added", { ...part, part: { type: "output_text", text: "", annotations: [] } });
      for (const delta of chunkText(text)) emit("response.output_text.delta", { ...part, delta });
      emit("response.output_text.done", { ...part, text });
      emit("response.content_part.done", { ...part, part: item.content[0] });
    } else if (item.type === "function_call") {
      emit("response.output_item.added", { output_index, item: { ...item, status: "in_progress", arguments: "" } });
      for (const delta of chunkText(item.arguments, 16)) emit("response.function_call_arguments.delta", { item_id: item.id, output_index, delta });
      emit("response.function_call_arguments.done", { item_id: item.id, output_index, arguments: item.arguments });
    } else {
      emit("response.output_item.added", { output_index, item: { ...item, status: "in_progress", input: "" } });
      for (const delta of chunkText(item.input, 16)) emit("response.custom_tool_call_input.delta", { item_id: item.id, output_index, delta });
      emit("response.custom_tool_call_input.done", { item_id: item.id, output_index, input: item.input });
    }
    emit("response.output_item.done", { output_index, item });
  });
  emit("response.completed", { response: { ...base, status: "completed", output: items, usage } });
  res.end();
  return { inputTokens, outputTokens };
}

/** OpenAI error type and code per HTTP status. */
const ERRORS: Record<number, { type: string; code: string | null }> = {
  400: { type: "invalid_request_error", code: null },
  401: { type: "invalid_request_error", code: "invalid_api_key" },
  404: { type: "invalid_request_error", code: "model_not_found" },
  429: { type: "requests", code: "rate_limit_exceeded" },
  500: { type: "server_error", code: null },
  503: { type: "server_error", code: null },
};

/** Start a stream, then fail it with `response.failed` (the status never reaches the client). */
export function sendOpenAiStreamError(res: ServerResponse, failure: ScriptFailure, req: ScriptRequest, newId: (p: string) => string): void {
  const base = { id: newId("resp_"), object: "response", created_at: Math.floor(Date.now() / 1000), model: req.model || "scripted-model", output: [] };
  startSse(res);
  sendEvent(res, "response.created", { type: "response.created", sequence_number: 0, response: { ...base, status: "in_progress" } });
  const error = { code: failure.type ?? (failure.status >= 500 ? "server_error" : "rate_limit_exceeded"), message: failure.message ?? `scripted mid-stream ${failure.status}` };
  sendEvent(res, "response.failed", { type: "response.failed", sequence_number: 1, response: { ...base, status: "failed", error } });
  res.end();
}

/** Answer with an OpenAI error body (`{ error: { message, type, param, code } }`). */
export function sendOpenAiError(res: ServerResponse, failure: ScriptFailure): void {
  const known = ERRORS[failure.status] ?? { type: failure.status >= 500 ? "server_error" : "invalid_request_error", code: null };
  const headers: Record<string, string> = {};
  if (failure.retryAfterSec !== undefined) headers["retry-after"] = String(failure.retryAfterSec);
  sendJson(res, failure.status, { error: { message: failure.message ?? `scripted ${failure.status}`, type: failure.type ?? known.type, param: null, code: known.code } }, headers);
}
