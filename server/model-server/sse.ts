/**
 * Small HTTP helpers shared by the two API dialects of the model server: server-sent events
 * (`event: <name>\ndata: <json>\n\n`, per the WHATWG EventSource format both APIs use), JSON
 * answers, and chunking text so clients see several deltas.
 */
import type { ServerResponse } from "node:http";

/** Start an SSE response (200, `text/event-stream`). */
export function startSse(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", ...headers });
}

/** Write one SSE event whose data is `data` as JSON. */
export function sendEvent(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Answer with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** Split `text` into pieces of at most `size` characters (at least one piece, possibly ""). */
export function chunkText(text: string, size = 24): string[] {
  if (text.length <= size) return [text];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Extract the text of a content value: a string, or an array of blocks with `text` fields. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b) => (b && typeof b === "object" && typeof (b as { text?: unknown }).text === "string" ? (b as { text: string }).text : ""))
    .filter(Boolean)
    .join("\n");
}

/** `value` if it is a plain object, else an empty one: request bodies are untrusted. */
export function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** `value` if it is an array, else an empty one. */
export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
