import Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { startModelServer, type ModelServer } from "./model-server";
import { EXHAUSTED_TEXT, UNMATCHED_TEXT, type Conversation } from "./script";

let server: ModelServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function start(script: Conversation[], extra: { apiKey?: string } = {}) {
  server = await startModelServer({ script, ...extra });
  return server;
}

/** Parse an SSE body into `{ event, data }` pairs (data parsed as JSON). */
function parseSse(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      const event = lines.find((l) => l.startsWith("event: "))!.slice(7);
      const data = JSON.parse(lines.find((l) => l.startsWith("data: "))!.slice(6)) as Record<string, unknown>;
      return { event, data };
    });
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

const TOOLS = [{ name: "Bash", description: "run", input_schema: { type: "object" as const, properties: { command: { type: "string" } } } }];
const EDIT_INPUT = { command: "echo \"a long command with quotes\" > file.txt && git add -A", description: "x".repeat(50) };

describe("model server: Anthropic Messages API", () => {
  it("streams text and a tool_use that the real SDK reassembles, with usage", async () => {
    const s = await start([{ name: "c", match: "MARK", turns: [{ text: "Let me run that, it will take a moment.", toolCalls: [{ name: "Bash", input: EDIT_INPUT }], usage: { inputTokens: 120, outputTokens: 30 } }] }]);
    const client = new Anthropic({ baseURL: s.url, apiKey: "k", maxRetries: 0 });
    const msg = await client.messages.stream({ model: "m1", max_tokens: 100, tools: TOOLS, messages: [{ role: "user", content: "do MARK" }] }).finalMessage();
    expect(msg.stop_reason).toBe("tool_use");
    expect(msg.content[0]).toMatchObject({ type: "text", text: "Let me run that, it will take a moment." });
    expect(msg.content[1]).toMatchObject({ type: "tool_use", name: "Bash", input: EDIT_INPUT });
    expect(msg.usage).toMatchObject({ input_tokens: 120, output_tokens: 30 });
    expect(s.requests).toMatchObject([{ api: "anthropic", known: true, conversation: "c", turnIndex: 0, status: 200, stream: true, tools: ["Bash"], usage: { inputTokens: 120, outputTokens: 30 } }]);
  });

  it("sends the SSE events in the documented order, JSON split across input_json_delta chunks", async () => {
    const s = await start([{ name: "c", turns: [{ text: "hi", toolCalls: [{ name: "Bash", input: EDIT_INPUT, id: "toolu_1" }] }] }]);
    const res = await post(`${s.url}/v1/messages?beta=true`, { model: "m", stream: true, tools: TOOLS, messages: [{ role: "user", content: "x" }] });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = parseSse(await res.text());
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("message_start");
    expect(names.slice(-2)).toEqual(["message_delta", "message_stop"]);
    expect(events.every((e) => e.data.type === e.event)).toBe(true);
    const toolStart = events.find((e) => e.event === "content_block_start" && (e.data.content_block as { type: string }).type === "tool_use")!;
    expect(toolStart.data).toMatchObject({ index: 1, content_block: { type: "tool_use", id: "toolu_1", name: "Bash", input: {} } });
    const partials = events.filter((e) => (e.data.delta as { type?: string } | undefined)?.type === "input_json_delta").map((e) => (e.data.delta as { partial_json: string }).partial_json);
    expect(partials.length).toBeGreaterThan(1);
    expect(JSON.parse(partials.join(""))).toEqual(EDIT_INPUT);
    expect(events.at(-2)!.data).toMatchObject({ delta: { stop_reason: "tool_use" }, usage: { output_tokens: expect.any(Number) } });
  });

  it("answers non-streaming requests with one message", async () => {
    const s = await start([{ name: "c", turns: [{ text: "plain answer" }] }]);
    const client = new Anthropic({ baseURL: s.url, apiKey: "k", maxRetries: 0 });
    const msg = await client.messages.create({ model: "m2", max_tokens: 10, messages: [{ role: "user", content: "q" }] });
    expect(msg).toMatchObject({ type: "message", role: "assistant", model: "m2", stop_reason: "end_turn", content: [{ type: "text", text: "plain answer" }] });
  });

  it("picks the turn from the history, the conversation by marker, and answers past the end", async () => {
    const s = await start([
      { name: "a", match: "ALPHA", turns: [{ text: "a0" }, { text: "a1" }] },
      { name: "b", match: "BETA", turns: [{ text: "b0" }] },
    ]);
    const client = new Anthropic({ baseURL: s.url, apiKey: "k", maxRetries: 0 });
    const ask = async (messages: Anthropic.MessageParam[]) => {
      const m = await client.messages.create({ model: "m", max_tokens: 10, messages });
      return (m.content[0] as { text: string }).text;
    };
    expect(await ask([{ role: "user", content: "go BETA" }])).toBe("b0");
    expect(await ask([{ role: "user", content: "go ALPHA" }])).toBe("a0");
    const history: Anthropic.MessageParam[] = [{ role: "user", content: "go ALPHA" }, { role: "assistant", content: "a0" }, { role: "user", content: "more" }];
    expect(await ask(history)).toBe("a1");
    expect(await ask([...history, { role: "assistant", content: "a1" }, { role: "user", content: "more" }])).toBe(EXHAUSTED_TEXT);
    expect(await ask([{ role: "user", content: "nobody" }])).toBe(UNMATCHED_TEXT);
    expect(s.requests.map((r) => [r.conversation, r.turnIndex])).toEqual([["b", 0], ["a", 0], ["a", 1], ["a", 2], [null, 0]]);
  });

  it("serves each scripted failure once (429 with retry-after, 500), then the turn", async () => {
    const s = await start([{ name: "c", turns: [{ text: "finally", failures: [{ status: 429, retryAfterSec: 0 }, { status: 500 }] }] }]);
    const body = { model: "m", max_tokens: 5, tools: TOOLS, messages: [{ role: "user", content: "x" }] };
    const r1 = await post(`${s.url}/v1/messages`, body);
    expect(r1.status).toBe(429);
    expect(r1.headers.get("retry-after")).toBe("0");
    expect(await r1.json()).toMatchObject({ type: "error", error: { type: "rate_limit_error", message: expect.any(String) } });
    const r2 = await post(`${s.url}/v1/messages`, body);
    expect(r2.status).toBe(500);
    expect(await r2.json()).toMatchObject({ type: "error", error: { type: "api_error" } });
    // The real SDK retries by itself after a failure; here the failures are used up.
    const client = new Anthropic({ baseURL: s.url, apiKey: "k", maxRetries: 0 });
    const msg = await client.messages.create(body as Anthropic.MessageCreateParamsNonStreaming);
    expect((msg.content[0] as { text: string }).text).toBe("finally");
    expect(s.requests.map((r) => r.status)).toEqual([429, 500, 200]);
  });

  it("fails inside a 200 stream with an SSE error event, which the SDK raises as an APIError", async () => {
    const s = await start([{ name: "c", turns: [{ text: "later", failures: [{ status: 529, midStream: true }] }] }]);
    const client = new Anthropic({ baseURL: s.url, apiKey: "k", maxRetries: 0 });
    const err = await client.messages.stream({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }] }).finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err).toMatchObject({ status: undefined, type: "overloaded_error" });
    expect(s.requests[0]).toMatchObject({ status: 200, midStreamError: true });
  });

  it("rejects a wrong API key with Anthropic's 401 shape, which the SDK maps to AuthenticationError", async () => {
    const s = await start([{ name: "c", turns: [{ text: "never" }] }], { apiKey: "right" });
    const client = new Anthropic({ baseURL: s.url, apiKey: "wrong", maxRetries: 0 });
    const err = await client.messages.create({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err).toMatchObject({ status: 401, type: "authentication_error" });
  });

  it("answers a tools-less side request with plain text without consuming the turn's failure", async () => {
    const s = await start([{ name: "c", match: "MARK", turns: [{ toolCalls: [{ name: "Bash", input: {} }], failures: [{ status: 500 }] }] }]);
    const side = await post(`${s.url}/v1/messages`, { model: "m", max_tokens: 5, messages: [{ role: "user", content: "title for MARK" }] });
    expect(side.status).toBe(200);
    expect(await side.json()).toMatchObject({ content: [{ type: "text", text: UNMATCHED_TEXT }] });
    const main = await post(`${s.url}/v1/messages`, { model: "m", max_tokens: 5, tools: TOOLS, messages: [{ role: "user", content: "MARK" }] });
    expect(main.status).toBe(500);
    expect(s.requests.map((r) => r.side ?? false)).toEqual([true, false]);
  });

  it("probes, counts tokens, rejects bad JSON and records unknown routes", async () => {
    const s = await start([{ name: "c", turns: [{ text: "x" }] }]);
    expect((await fetch(s.url, { method: "HEAD" })).status).toBe(200);
    expect(await (await post(`${s.url}/v1/messages/count_tokens`, { messages: [] })).json()).toEqual({ input_tokens: expect.any(Number) });
    const bad = await post(`${s.url}/v1/messages`, "{truncated");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const unknown = await fetch(`${s.url}/api/oauth/profile`);
    expect(unknown.status).toBe(404);
    expect(s.requests.map((r) => [r.method, r.url, r.known])).toEqual([
      ["HEAD", "/", true],
      ["POST", "/v1/messages/count_tokens", true],
      ["POST", "/v1/messages", true],
      ["GET", "/api/oauth/profile", false],
    ]);
  });
});

describe("model server: OpenAI Responses API", () => {
  const FN_TOOLS = [
    { type: "function", name: "exec_command", parameters: { type: "object" } },
    { type: "custom", name: "apply_patch", format: { type: "grammar" } },
  ];

  it("streams a message, a function call and a custom tool call, then response.completed with usage", async () => {
    const patch = "*** Begin Patch\n*** Add File: a.txt\n+hello\n*** End Patch\n";
    const s = await start([{ name: "c", match: "MARK", turns: [{ text: "Running it now, then patching.", toolCalls: [{ name: "exec_command", input: { cmd: "ls -la" } }, { name: "apply_patch", input: patch }], usage: { inputTokens: 50, outputTokens: 7 } }] }]);
    const res = await post(`${s.url}/v1/responses`, { model: "gpt-x", stream: true, tools: FN_TOOLS, input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "MARK" }] }] });
    const events = parseSse(await res.text());
    const names = events.map((e) => e.event);
    expect(names.slice(0, 2)).toEqual(["response.created", "response.in_progress"]);
    expect(names.at(-1)).toBe("response.completed");
    expect(events.every((e, i) => e.data.type === e.event && e.data.sequence_number === i)).toBe(true);
    const text = events.filter((e) => e.event === "response.output_text.delta").map((e) => e.data.delta).join("");
    expect(text).toBe("Running it now, then patching.");
    const done = events.filter((e) => e.event === "response.output_item.done").map((e) => e.data.item as Record<string, unknown>);
    expect(done.map((i) => i.type)).toEqual(["message", "function_call", "custom_tool_call"]);
    expect(JSON.parse(done[1]!.arguments as string)).toEqual({ cmd: "ls -la" });
    expect(done[1]).toMatchObject({ name: "exec_command", call_id: expect.stringMatching(/^call_/) });
    expect(done[2]).toMatchObject({ name: "apply_patch", input: patch });
    const args = events.filter((e) => e.event === "response.function_call_arguments.delta").map((e) => e.data.delta).join("");
    expect(args).toBe(done[1]!.arguments);
    expect(events.at(-1)!.data).toMatchObject({ response: { status: "completed", output: done, usage: { input_tokens: 50, output_tokens: 7, total_tokens: 57 } } });
  });

  it("counts model turns from output items and reads tool outputs", async () => {
    const s = await start([{ name: "c", turns: [{ toolCalls: [{ name: "exec_command", input: {} }] }, { text: "second" }] }]);
    const input = [
      { type: "message", role: "user", content: [{ type: "input_text", text: "go" }] },
      { type: "reasoning", summary: [] },
      { type: "function_call", name: "exec_command", arguments: "{}", call_id: "c1" },
      { type: "function_call_output", call_id: "c1", output: "exit 0" },
    ];
    const res = await post(`${s.url}/v1/responses`, { model: "m", tools: FN_TOOLS, input });
    expect(await res.json()).toMatchObject({ status: "completed", output: [{ type: "message", content: [{ text: "second" }] }] });
    expect(s.requests[0]).toMatchObject({ api: "openai", turnIndex: 1, toolResults: [{ text: "exit 0", isError: false }] });
  });

  it("fails inside a stream with response.failed", async () => {
    const s = await start([{ name: "c", turns: [{ text: "x", failures: [{ status: 500, midStream: true }] }] }]);
    const events = parseSse(await (await post(`${s.url}/v1/responses`, { model: "m", stream: true, input: "hi" })).text());
    expect(events.map((e) => e.event)).toEqual(["response.created", "response.failed"]);
    expect(events[1]!.data).toMatchObject({ response: { status: "failed", error: { code: "server_error" } } });
  });

  it("answers failures with OpenAI's error shape", async () => {
    const s = await start([{ name: "c", turns: [{ text: "x", failures: [{ status: 429, retryAfterSec: 1 }, { status: 500 }] }] }], {});
    const r1 = await post(`${s.url}/v1/responses`, { model: "m", tools: FN_TOOLS, input: "hi" });
    expect(r1.status).toBe(429);
    expect(r1.headers.get("retry-after")).toBe("1");
    expect(await r1.json()).toEqual({ error: { message: expect.any(String), type: "requests", param: null, code: "rate_limit_exceeded" } });
    const r2 = await post(`${s.url}/v1/responses`, { model: "m", tools: FN_TOOLS, input: "hi" });
    expect(await r2.json()).toMatchObject({ error: { type: "server_error" } });
  });
});
