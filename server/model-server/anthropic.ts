/**
 * The Anthropic Messages API dialect of the model server (`POST /v1/messages`).
 *
 * Formats follow Anthropic's API reference ("Messages", "Streaming Messages", "Errors"):
 * - streaming: `message_start` (message with empty content and input usage), per content block
 *   `content_block_start` / `content_block_delta` (`text_delta` or `input_json_delta` with
 *   `partial_json`) / `content_block_stop`, then `message_delta` (`stop_reason`, output usage)
 *   and `message_stop`; a `ping` after `message_start` as the real API sends;
 * - non-streaming: one `message` object;
 * - errors: `{ type: "error", error: { type, message }, request_id }` with the HTTP status and a
 *   `request-id` header (`retry-after` on request).
 */
import type { ServerResponse } from "node:http";
import type { ParsedTurn, ScriptFailure, ScriptRequest } from "./script";
import { estimateTokens } from "./script";
import { asArray, asRecord, chunkText, contentText, sendEvent, sendJson, startSse } from "./sse";

/** Anthropic error type per HTTP status. */
const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

/** Normalize a Messages API request body. */
export function parseAnthropicRequest(body: unknown, bodyBytes: number): ScriptRequest {
  const b = asRecord(body);
  const messages = asArray(b.messages).map(asRecord);
  const userTexts: string[] = [];
  let turnIndex = 0;
  let toolResults: ScriptRequest["toolResults"] = [];
  for (const m of messages) {
    if (m.role === "assistant") {
      turnIndex++;
      toolResults = [];
      continue;
    }
    if (m.role !== "user") continue;
    if (typeof m.content === "string") userTexts.push(m.content);
    for (const block of asArray(m.content).map(asRecord)) {
      if (block.type === "text" && typeof block.text === "string") userTexts.push(block.text);
      if (block.type === "tool_result") toolResults.push({ text: contentText(block.content), isError: block.is_error === true });
    }
  }
  const tools = asArray(b.tools).map(asRecord).map((t) => ({ name: String(t.name ?? ""), kind: (t.input_schema ? "function" : "other") as "function" | "other" }));
  return { api: "anthropic", model: String(b.model ?? ""), stream: b.stream === true, userTexts, turnIndex, tools, toolResults, bodyBytes };
}

/** The content blocks, stop reason and usage of a scripted turn. */
function buildMessage(turn: ParsedTurn, req: ScriptRequest, newId: (p: string) => string) {
  const content: ({ type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: unknown })[] = [];
  if (turn.text !== undefined) content.push({ type: "text", text: turn.text });
  for (const call of turn.toolCalls) content.push({ type: "tool_use", id: call.id ?? newId("toolu_"), name: call.name, input: call.input });
  if (content.length === 0) content.push({ type: "text", text: "" });
  const outBytes = Buffer.byteLength(JSON.stringify(content));
  const usage = {
    input_tokens: turn.usage?.inputTokens ?? estimateTokens(req.bodyBytes),
    output_tokens: turn.usage?.outputTokens ?? estimateTokens(outBytes),
  };
  const stopReason = turn.toolCalls.length > 0 ? "tool_use" : "end_turn";
  return { id: newId("msg_"), content, usage, stopReason };
}

/** Usage reported for a turn, so the server can record it. */
export interface SentUsage {
  inputTokens: number;
  outputTokens: number;
}

/** Answer a request with a scripted turn (streaming or not). Returns the usage sent. */
export function sendAnthropicTurn(res: ServerResponse, turn: ParsedTurn, req: ScriptRequest, newId: (p: string) => string): SentUsage {
  const msg = buildMessage(turn, req, newId);
  const base = { id: msg.id, type: "message", role: "assistant", model: req.model || "scripted-model", stop_sequence: null };
  const fullUsage = { ...msg.usage, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const requestId = newId("req_");
  if (!req.stream) {
    sendJson(res, 200, { ...base, content: msg.content, stop_reason: msg.stopReason, usage: fullUsage }, { "request-id": requestId });
    return { inputTokens: msg.usage.input_tokens, outputTokens: msg.usage.output_tokens };
  }
  startSse(res, { "request-id": requestId });
  sendEvent(res, "message_start", { type: "message_start", message: { ...base, content: [], stop_reason: null, usage: { ...fullUsage, output_tokens: 1 } } });
  sendEvent(res, "ping", { type: "ping" });
  msg.content.forEach((block, index) => {
    if (block.type === "text") {
      sendEvent(res, "content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } });
      for (const piece of chunkText(block.text)) sendEvent(res, "content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: piece } });
    } else {
      sendEvent(res, "content_block_start", { type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      // Split the JSON into several partial chunks: clients must concatenate before parsing.
      for (const piece of chunkText(JSON.stringify(block.input), 16)) {
        sendEvent(res, "content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } });
      }
    }
    sendEvent(res, "content_block_stop", { type: "content_block_stop", index });
  });
  sendEvent(res, "message_delta", { type: "message_delta", delta: { stop_reason: msg.stopReason, stop_sequence: null }, usage: { output_tokens: msg.usage.output_tokens } });
  sendEvent(res, "message_stop", { type: "message_stop" });
  res.end();
  return { inputTokens: msg.usage.input_tokens, outputTokens: msg.usage.output_tokens };
}

/** Anthropic error type for a failure. */
function errorType(failure: ScriptFailure): string {
  return failure.type ?? ERROR_TYPES[failure.status] ?? (failure.status >= 500 ? "api_error" : "invalid_request_error");
}

/** Start a stream, then fail inside it with an SSE `error` event (the status never reaches the client). */
export function sendAnthropicStreamError(res: ServerResponse, failure: ScriptFailure, req: ScriptRequest, newId: (p: string) => string): void {
  startSse(res, { "request-id": newId("req_") });
  const usage = { input_tokens: estimateTokens(req.bodyBytes), output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  sendEvent(res, "message_start", { type: "message_start", message: { id: newId("msg_"), type: "message", role: "assistant", model: req.model || "scripted-model", content: [], stop_reason: null, stop_sequence: null, usage } });
  sendEvent(res, "error", { type: "error", error: { type: errorType(failure), message: failure.message ?? `scripted mid-stream ${errorType(failure)}` } });
  res.end();
}

/** Answer with an Anthropic error body (`{ type: "error", error: { type, message } }`). */
export function sendAnthropicError(res: ServerResponse, failure: ScriptFailure, newId: (p: string) => string): void {
  const type = errorType(failure);
  const requestId = newId("req_");
  const headers: Record<string, string> = { "request-id": requestId };
  if (failure.retryAfterSec !== undefined) headers["retry-after"] = String(failure.retryAfterSec);
  sendJson(res, failure.status, { type: "error", error: { type, message: failure.message ?? `scripted ${failure.status} ${type}` }, request_id: requestId }, headers);
}

/** Answer `POST /v1/messages/count_tokens`. */
export function sendCountTokens(res: ServerResponse, bodyBytes: number): void {
  sendJson(res, 200, { input_tokens: estimateTokens(bodyBytes) });
}
