/**
 * A local model server: speaks the Anthropic Messages API and the OpenAI Responses API on
 * 127.0.0.1 and answers from scripted conversations (see ./script.ts), so the real Claude Code
 * and Codex CLIs and the real `@anthropic-ai/sdk` can run end to end with no model API.
 *
 * Routes:
 * | route | answer |
 * | --- | --- |
 * | `HEAD /`, `GET /` | 200 (Claude Code probes `HEAD /` at start) |
 * | `POST /v1/messages[?beta=true]` | Anthropic message, SSE when `stream: true` |
 * | `POST /v1/messages/count_tokens` | `{ input_tokens }` |
 * | `POST /v1/responses` | OpenAI response, SSE when `stream: true` |
 * | `GET /v1/models` | one scripted model, OpenAI list shape |
 * | anything else | 404 with an error body; recorded with `known: false` |
 * Every request is recorded in `requests` (in arrival order) so tests can assert what the real
 * clients sent. With `apiKey` set, a request whose `x-api-key` / `Authorization: Bearer` differs
 * gets the dialect's 401.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseAnthropicRequest, sendAnthropicError, sendAnthropicStreamError, sendAnthropicTurn, sendCountTokens, type SentUsage } from "./anthropic";
import { parseOpenAiRequest, sendOpenAiError, sendOpenAiStreamError, sendOpenAiTurn } from "./openai";
import { makeIdFactory, ScriptRunner, type Script, type ScriptFailure, type ScriptRequest } from "./script";
import { sendJson } from "./sse";

/** Largest request body accepted (bytes). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface RecordedRequest {
  /** Arrival order, from 1. */
  seq: number;
  /** ms since the server started. */
  atMs: number;
  method: string;
  /** Path with query string, e.g. `/v1/messages?beta=true`. */
  url: string;
  userAgent: string | null;
  /** Whether the route is one the server speaks. */
  known: boolean;
  api: "anthropic" | "openai" | null;
  model?: string;
  stream?: boolean;
  tools?: string[];
  /** Script conversation answered from (null: unmatched), and its turn index. */
  conversation?: string | null;
  turnIndex?: number;
  /** Answered as a side request (see script.ts). */
  side?: boolean;
  /** Tool results the client sent back in this request. */
  toolResults?: ScriptRequest["toolResults"];
  /** HTTP status answered (200 for a failure inside the stream, see `midStreamError`). */
  status: number;
  /** The answer was a scripted failure inside a 200 stream. */
  midStreamError?: boolean;
  /** Usage reported in a successful answer. */
  usage?: SentUsage;
  /** The parsed request body, with `recordBodies`. */
  body?: unknown;
}

export interface ModelServerOptions {
  /** Port on 127.0.0.1; 0 or absent = any free port. */
  port?: number;
  host?: string;
  script: Script;
  /** When set, requests must carry this key (else 401). */
  apiKey?: string;
  /** Keep each parsed request body in its record (memory grows with the conversation). */
  recordBodies?: boolean;
  /** Called with one line per request (for the CLI). */
  log?: (line: string) => void;
}

export interface ModelServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:43117`. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Stop listening and drop open connections. Never throws. */
  close(): Promise<void>;
}

/**
 * Start the server.
 * @throws ZodError for a malformed script; the listen error (e.g. EADDRINUSE) if the port is taken.
 */
export async function startModelServer(opts: ModelServerOptions): Promise<ModelServer> {
  const runner = new ScriptRunner(opts.script);
  const newId = makeIdFactory();
  const requests: RecordedRequest[] = [];
  const started = Date.now();
  const server = http.createServer((req, res) => {
    const rec: RecordedRequest = {
      seq: requests.length + 1,
      atMs: Date.now() - started,
      method: req.method ?? "",
      url: req.url ?? "",
      userAgent: req.headers["user-agent"] ?? null,
      known: false,
      api: null,
      status: 0,
    };
    requests.push(rec);
    res.on("finish", () => {
      rec.status = res.statusCode;
      opts.log?.(`${rec.method} ${rec.url} → ${rec.status}${rec.conversation !== undefined ? ` [${rec.conversation ?? "unmatched"}#${rec.turnIndex}${rec.side ? " side" : ""}]` : ""}`);
    });
    handle(req, res, rec).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { type: "error", error: { type: "api_error", message: `model server: ${String(err)}` } });
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, rec: RecordedRequest): Promise<void> {
    const pathname = (req.url ?? "/").split("?")[0]!.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    if ((method === "HEAD" || method === "GET") && pathname === "/") {
      rec.known = true;
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(method === "HEAD" ? undefined : "laneboard model server\n");
      return;
    }
    if (method === "GET" && pathname === "/v1/models") {
      rec.known = true;
      sendJson(res, 200, { object: "list", data: [{ id: "scripted-model", object: "model", created: 0, owned_by: "laneboard" }] });
      return;
    }
    const api = method === "POST" && (pathname === "/v1/messages" || pathname === "/v1/messages/count_tokens") ? "anthropic" : method === "POST" && pathname === "/v1/responses" ? "openai" : null;
    if (!api) {
      await readBody(req).catch(() => undefined);
      sendJson(res, 404, { type: "error", error: { type: "not_found_error", message: `model server: no route ${method} ${pathname}` } });
      return;
    }
    rec.known = true;
    rec.api = api;
    const fail = (failure: ScriptFailure) => (api === "anthropic" ? sendAnthropicError(res, failure, newId) : sendOpenAiError(res, failure));
    if (opts.apiKey !== undefined && presentedKey(req) !== opts.apiKey) return fail({ status: 401, message: "invalid x-api-key" });
    let raw: Buffer;
    let body: unknown;
    try {
      raw = await readBody(req);
      body = JSON.parse(raw.toString("utf8"));
    } catch (err) {
      return fail({ status: 400, message: `model server: bad request body: ${(err as Error).message}` });
    }
    if (opts.recordBodies) rec.body = body;
    if (pathname === "/v1/messages/count_tokens") return sendCountTokens(res, raw.length);
    const sreq = api === "anthropic" ? parseAnthropicRequest(body, raw.length) : parseOpenAiRequest(body, raw.length);
    Object.assign(rec, { model: sreq.model, stream: sreq.stream, tools: sreq.tools.map((t) => t.name), toolResults: sreq.toolResults });
    const answer = await runner.answer(sreq);
    rec.conversation = answer.conversation;
    rec.turnIndex = answer.turnIndex;
    if (answer.side) rec.side = true;
    if (answer.failure?.midStream && sreq.stream) {
      rec.midStreamError = true;
      return api === "anthropic" ? sendAnthropicStreamError(res, answer.failure, sreq, newId) : sendOpenAiStreamError(res, answer.failure, sreq, newId);
    }
    if (answer.failure) return fail(answer.failure);
    if (answer.turn.delayMs) await new Promise((r) => setTimeout(r, answer.turn.delayMs));
    rec.usage = api === "anthropic" ? sendAnthropicTurn(res, answer.turn, sreq, newId) : sendOpenAiTurn(res, answer.turn, sreq, newId);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The API key a request presents: `x-api-key`, or a bearer token. */
function presentedKey(req: http.IncomingMessage): string | undefined {
  const header = req.headers["x-api-key"];
  if (typeof header === "string") return header;
  const auth = req.headers.authorization;
  return auth?.startsWith("Bearer ") ? auth.slice("Bearer ".length) : undefined;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
