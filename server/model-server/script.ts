/**
 * Scripted conversations for the local model server: the file format, and how an incoming
 * request (Anthropic Messages or OpenAI Responses, normalized to {@link ScriptRequest}) picks
 * its answer.
 *
 * Matching, stateless on purpose so retries and side requests do not shift the script:
 * - the conversation is the first one whose `match` occurs in any user text of the request
 *   (agents wrap the prompt in their own context, so "any user text" rather than "the first
 *   message"); else the first conversation without `match`; else none (the server answers
 *   "ok" and records the request as unmatched);
 * - the turn is the number of model turns already in the request's history (assistant
 *   messages for Anthropic, runs of model output items for OpenAI), so turn 0 answers the
 *   prompt, turn 1 answers the first tool results, and so on; past the end → a final text.
 * Only failures are stateful: each `failures` entry of a turn is served once, in order, before
 * the turn succeeds (so "429 then success" is a retry of the same request).
 * Side requests: a request that offers no tools cannot be the agent loop asking for a turn that
 * calls tools (Claude Code sends such a request for a session title, with the prompt in it). It
 * is answered {@link UNMATCHED_TEXT}, marked `side`, and consumes no failure.
 */
import { z } from "zod";

/** One tool call the scripted model makes. `input` is the tool's JSON input; for an OpenAI
 * custom (freeform) tool such as Codex's `apply_patch` it may be the raw string. */
export const ScriptToolCallSchema = z.object({
  name: z.string().min(1),
  input: z.union([z.record(z.string(), z.unknown()), z.string()]).default({}),
  id: z.string().optional(),
});
export type ScriptToolCall = z.infer<typeof ScriptToolCallSchema>;

/** An HTTP error answer injected before a turn succeeds. */
export const ScriptFailureSchema = z.object({
  status: z.number().int().min(400).max(599),
  /** API error type; defaults by status (Anthropic: rate_limit_error, api_error, …). */
  type: z.string().optional(),
  message: z.string().optional(),
  /** Sent as the `retry-after` header (seconds). */
  retryAfterSec: z.number().min(0).optional(),
  /** For a streaming request: answer 200, start the stream, then fail inside it (Anthropic
   * `event: error`, OpenAI `response.failed`), as an overloaded API does. */
  midStream: z.boolean().optional(),
});
export type ScriptFailure = z.infer<typeof ScriptFailureSchema>;

export const ScriptTurnSchema = z.object({
  text: z.string().optional(),
  toolCalls: z.array(ScriptToolCallSchema).default([]),
  failures: z.array(ScriptFailureSchema).default([]),
  /** Reported token usage; estimated from sizes (bytes / 4) when absent. */
  usage: z.object({ inputTokens: z.number().int().min(0).optional(), outputTokens: z.number().int().min(0).optional() }).optional(),
  /** Wait before answering (ms), e.g. to let a demo lane look busy. */
  delayMs: z.number().int().min(0).max(600_000).optional(),
});
export type ScriptTurn = z.input<typeof ScriptTurnSchema>;
export type ParsedTurn = z.output<typeof ScriptTurnSchema>;

export const ConversationSchema = z.object({
  name: z.string().min(1),
  match: z.string().min(1).optional(),
  turns: z.array(ScriptTurnSchema).min(1),
});
export type Conversation = z.input<typeof ConversationSchema>;

/** A script file: `{ conversations: Conversation[] }` or just the array. */
export const ScriptFileSchema = z.union([z.array(ConversationSchema), z.object({ conversations: z.array(ConversationSchema) }).transform((f) => f.conversations)]);

/** The text the server answers with once a conversation's turns are used up. */
export const EXHAUSTED_TEXT = "(model-server: script finished)";
/** The text the server answers with when no conversation matches (e.g. an agent's side request). */
export const UNMATCHED_TEXT = "ok";

/** An incoming model request, normalized over both APIs. */
export interface ScriptRequest {
  api: "anthropic" | "openai";
  model: string;
  stream: boolean;
  /** Every user-authored text in the history, in order (prompt, wrapped context, …). */
  userTexts: string[];
  /** Model turns already in the history. */
  turnIndex: number;
  /** Names of the tools offered, and their kinds (`custom` = OpenAI freeform tool). */
  tools: { name: string; kind: "function" | "custom" | "other" }[];
  /** Tool results sent back since the last model turn (text, error flag). */
  toolResults: { text: string; isError: boolean }[];
  /** Raw request body size (bytes), used to estimate input tokens. */
  bodyBytes: number;
}

/** What the server answers a request with. */
export interface ScriptAnswer {
  conversation: string | null;
  turnIndex: number;
  /** A side request (no tools offered, scripted turn calls tools): answered with plain text. */
  side?: boolean;
  /** A failure to serve now, or the successful turn. */
  failure?: ScriptFailure;
  turn: ParsedTurn;
}

/** A script: conversations, or a function deciding each answer itself. */
export type Script = Conversation[] | ((req: ScriptRequest) => ScriptTurn | Promise<ScriptTurn>);

/** Holds the parsed script and the failure counters (the only state). */
export class ScriptRunner {
  readonly #conversations: z.output<typeof ConversationSchema>[] | null;
  readonly #fn: ((req: ScriptRequest) => ScriptTurn | Promise<ScriptTurn>) | null;
  readonly #failuresServed = new Map<string, number>();

  /** @throws ZodError for a malformed conversation list */
  constructor(script: Script) {
    if (typeof script === "function") {
      this.#fn = script;
      this.#conversations = null;
    } else {
      this.#fn = null;
      this.#conversations = z.array(ConversationSchema).parse(script);
    }
  }

  /** Decide the answer to one request (consumes one pending failure if there is one). */
  async answer(req: ScriptRequest): Promise<ScriptAnswer> {
    if (this.#fn) {
      const turn = ScriptTurnSchema.parse(await this.#fn(req));
      return this.#withFailure("fn", req.turnIndex, turn);
    }
    const convs = this.#conversations!;
    const conv = convs.find((c) => c.match !== undefined && req.userTexts.some((t) => t.includes(c.match!))) ?? convs.find((c) => c.match === undefined);
    if (!conv) return { conversation: null, turnIndex: req.turnIndex, turn: ScriptTurnSchema.parse({ text: UNMATCHED_TEXT }) };
    const turn = conv.turns[req.turnIndex] ?? ScriptTurnSchema.parse({ text: EXHAUSTED_TEXT });
    if (req.tools.length === 0 && turn.toolCalls.length > 0) return { conversation: conv.name, turnIndex: req.turnIndex, side: true, turn: ScriptTurnSchema.parse({ text: UNMATCHED_TEXT }) };
    return this.#withFailure(conv.name, req.turnIndex, turn);
  }

  #withFailure(conversation: string, turnIndex: number, turn: ParsedTurn): ScriptAnswer {
    const key = `${conversation}#${turnIndex}`;
    const served = this.#failuresServed.get(key) ?? 0;
    const failure = turn.failures[served];
    if (failure) this.#failuresServed.set(key, served + 1);
    return { conversation, turnIndex, turn, ...(failure ? { failure } : {}) };
  }
}

/** Rough token estimate used when a turn gives no usage: 4 bytes per token, at least 1. */
export function estimateTokens(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4));
}

/** A fresh id with an API-style prefix (`msg_`, `toolu_`, `resp_`, …), unique per factory. */
export function makeIdFactory(): (prefix: string) => string {
  let n = 0;
  return (prefix) => `${prefix}${(++n).toString(36).padStart(6, "0")}${Date.now().toString(36)}`;
}
