/**
 * The normalized output of an agent engine. Each engine's adapter is a pure parser: it is fed
 * the worker's stdout one line at a time (as the supervisor's tailer delivers them) and
 * returns {@link EngineSignal}s, which the lane runner turns into worker state transitions and
 * lane events. Adapters never throw on input: a line that is not JSON, truncated JSON, a
 * malformed or unknown event becomes a `warning` signal carrying the line.
 *
 * Signal → meaning for the lane runner:
 * | kind | meaning |
 * | --- | --- |
 * | `ready` | the agent started and accepted its prompt (worker `ready_for_prompt` → `prompt_accepted` → `running`); `cwd` where it works, when it says |
 * | `message` | the model said something (text) |
 * | `tool_use` | the agent is running a tool (`name`, `input`) |
 * | `tool_result` | a tool finished (`isError`, output `text`) |
 * | `usage` | running totals for the whole run so far (tokens; USD when the engine knows a price); the latest one wins |
 * | `result` | the agent's own final outcome; `failureClass` hints why it failed |
 * | `warning` | something in the output could not be understood; the run goes on |
 */
import type { FailureClass } from "@/lib/lane-state";
import { DEFAULT_MAX_LINE_BYTES } from "../processes/line-splitter";

export type EngineSignal =
  | { kind: "ready"; sessionId?: string; model?: string; cwd?: string }
  | { kind: "message"; text: string }
  | { kind: "tool_use"; name: string; input: unknown; id?: string }
  | { kind: "tool_result"; isError: boolean; text: string; id?: string }
  | { kind: "usage"; inputTokens: number; outputTokens: number; costUsd?: number }
  | { kind: "result"; ok: boolean; turns?: number; costUsd?: number; text: string; failureClass?: FailureClass }
  | { kind: "warning"; message: string; line: string };

export type EngineSignalKind = EngineSignal["kind"];

/** How the worker process ended (as the supervisor records it). */
export interface EngineExit {
  exitCode: number | null;
  signal: string | null;
}

/** A stateful parser of one worker's stdout. */
export interface EngineAdapter {
  /** One stdout line (without its newline). Never throws. */
  feed(line: string): EngineSignal[];
  /** The process ended: flush, and produce a `result` if the agent never printed one. Never throws. */
  end(exit: EngineExit): EngineSignal[];
}

/** Longest text kept in a signal (characters); tool output can be megabytes. */
export const MAX_SIGNAL_TEXT = 8000;
/** Largest JSON object reassembled from split pieces (bytes); beyond it the pieces are dropped. */
export const MAX_JSON_LINE_BYTES = 16 * 1024 * 1024;

/** Cut `text` to {@link MAX_SIGNAL_TEXT} characters, marking the cut. */
export function clip(text: string, max = MAX_SIGNAL_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** A warning signal for `line` (clipped). */
export function warning(message: string, line: string): EngineSignal {
  return { kind: "warning", message, line: clip(line, 2000) };
}

/**
 * Turns stdout lines into JSON objects. The supervisor's line splitter cuts lines longer than
 * `maxPieceBytes` into pieces; a piece that does not parse and is (nearly) that long is held
 * and joined with the following pieces, so a huge tool result does not turn into noise.
 */
export class JsonLineReader {
  #pending: string | null = null;
  #pendingBytes = 0;

  constructor(private readonly maxPieceBytes = DEFAULT_MAX_LINE_BYTES) {}

  /**
   * @returns `{ value }` for a JSON object, `{ warning }` for anything else, or null when the
   *   line is empty or held as the first piece of a longer one.
   */
  read(line: string): { value: Record<string, unknown> } | { warning: EngineSignal } | null {
    const bytes = Buffer.byteLength(line);
    let text = line;
    if (this.#pending !== null) {
      text = this.#pending + line;
      this.#pendingBytes += bytes;
      this.#pending = null;
    } else {
      this.#pendingBytes = bytes;
    }
    if (text.trim() === "") return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      // Only a piece cut by the splitter (4 bytes of slack for a cut on a character boundary) is held.
      if (bytes >= this.maxPieceBytes - 4 && this.#pendingBytes < MAX_JSON_LINE_BYTES && text.trimStart().startsWith("{")) {
        this.#pending = text;
        return null;
      }
      const what = text.trimStart().startsWith("{") ? "truncated or invalid JSON" : "not JSON";
      return { warning: warning(`${what}: ${(err as Error).message}`, text) };
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) return { warning: warning("JSON line is not an object", text) };
    return { value: value as Record<string, unknown> };
  }

  /** End of stream: a held piece is reported as truncated. */
  flush(): EngineSignal[] {
    const p = this.#pending;
    this.#pending = null;
    return p === null ? [] : [warning("output ended inside a JSON line", p)];
  }
}

/** `v` as a finite number, else undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** `v` as a plain object, else an empty one. */
export function rec(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The text of a tool result's content: a string, or an array of `{ type: "text", text }` blocks. */
export function blockText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? "" : JSON.stringify(content);
  return content.map((b) => (typeof rec(b).text === "string" ? (rec(b).text as string) : "")).filter(Boolean).join("\n");
}

/** The `result` for a process that ended without printing one. */
export function missingResult(engine: string, exit: EngineExit): EngineSignal {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
  return { kind: "result", ok: false, text: `${engine} ${how} without a result`, failureClass: exit.signal ? "killed" : "tool_runtime" };
}

/**
 * Base of the adapters for agents that print one JSON object per line: {@link feed} reads a line
 * with a {@link JsonLineReader} (malformed, truncated or non-object lines become warnings) and
 * hands each object to {@link interpret}; an exception there becomes a warning too, so an
 * adapter never throws.
 */
export abstract class JsonLinesAdapter implements EngineAdapter {
  protected readonly reader: JsonLineReader;

  constructor(maxPieceBytes?: number) {
    this.reader = new JsonLineReader(maxPieceBytes);
  }

  feed(line: string): EngineSignal[] {
    const read = this.reader.read(line);
    if (!read) return [];
    if ("warning" in read) return [read.warning];
    try {
      return this.interpret(read.value, line);
    } catch (err) {
      return [warning(`could not interpret event: ${(err as Error).message}`, line)];
    }
  }

  /** Signals for one JSON object printed by the agent; `line` is its raw text, for warnings. */
  protected abstract interpret(value: Record<string, unknown>, line: string): EngineSignal[];

  abstract end(exit: EngineExit): EngineSignal[];
}
