/**
 * Live process output travels as **chunks**: the exact bytes of one or more whole lines of one
 * stream, as read from the log file, with the logical byte offset of their first byte. The
 * server never decodes or copies output line by line on the live path (one read, one copy, one
 * Socket.IO binary attachment per batch); whoever needs lines decodes a chunk with
 * {@link decodeChunk}, which works the same in Node and in the browser.
 *
 * Line rules (the same as server/processes/line-splitter.ts, which reads logs back; a fuzz test
 * checks the two agree on every chunking):
 * - a line is the bytes up to, not including, `\n`; a `\r` right before the `\n` is part of the
 *   terminator (CRLF); a lone `\r` stays in the text. ANSI escapes are ordinary bytes;
 * - a chunk's last segment without a `\n` is a line of its own (a piece of an over-long line, or
 *   the partial last line of a process that ended);
 * - a line longer than `maxLineBytes` (256 KiB) is cut into pieces of at most that size, on a
 *   UTF-8 character boundary when possible ({@link utf8SafeCut});
 * - `text` is the UTF-8 decoding (invalid bytes → U+FFFD); `raw` is the base64 of the exact
 *   bytes, present only when they are not valid UTF-8.
 */
import type { LogLine } from "./api";

export type OutputStream = "stdout" | "stderr";

/** Whole lines of one stream, as bytes (see the module comment). */
export interface OutputChunk {
  stream: OutputStream;
  /** Logical byte offset of `data[0]` in the stream's log file (survives retention). */
  offset: number;
  /** Number of lines in `data` under the rules above (pieces count as lines). */
  lines: number;
  /** The run the lines belong to: their order against the process's other stream (lib/log-order.ts). */
  seq: number;
  /** Milliseconds since the epoch when the server read the bytes. */
  ts: number;
  /** The bytes. A Buffer on the server; a Uint8Array or ArrayBuffer after Socket.IO. */
  data: Uint8Array;
}

export const DEFAULT_MAX_LINE_BYTES = 256 * 1024;
const LF = 0x0a;
const CR = 0x0d;

/**
 * A cut position ≤ `limit` that does not split a UTF-8 sequence, scanning back at most 3
 * continuation bytes; returns `limit` if no lead byte is found (the bytes are not UTF-8 anyway).
 */
export function utf8SafeCut(buf: Uint8Array, start: number, limit: number): number {
  for (let i = limit; i > limit - 4 && i > start; i--) {
    if ((buf[i]! & 0xc0) !== 0x80) return i; // `i` starts a character (or is ASCII): cut before it
  }
  return limit;
}

/**
 * Call `fn(start, end)` for every line of `bytes` (byte positions, `end` excluding the
 * terminator) under the rules in the module comment.
 * @returns the number of lines
 */
export function forEachLine(bytes: Uint8Array, maxLineBytes: number, fn?: (start: number, end: number) => void): number {
  let n = 0;
  let start = 0;
  let lf = bytes.indexOf(LF, 0);
  while (lf !== -1) {
    // Plain lines (the common case) need no emitLine call when only counting.
    const end = lf > start && bytes[lf - 1] === CR ? lf - 1 : lf;
    if (fn || end - start > maxLineBytes) n += emitLine(bytes, start, end, maxLineBytes, fn);
    else n++;
    start = lf + 1;
    lf = bytes.indexOf(LF, start);
  }
  if (start < bytes.length) n += emitLine(bytes, start, bytes.length, maxLineBytes, fn);
  return n;
}

/**
 * One line `[start, end)` as lines of at most `maxLineBytes` (cut UTF-8-safely), each passed to
 * `fn`; returns how many. Module-level rather than a closure in {@link forEachLine}: that ran per
 * chunk, and the dev/prod loader (tsx, keepNames) wraps every closure it creates in a `__name`
 * call, measured at ~4 % of the server's CPU at 10k lines/s.
 */
function emitLine(bytes: Uint8Array, start: number, end: number, maxLineBytes: number, fn: ((start: number, end: number) => void) | undefined): number {
  let n = 1;
  while (end - start > maxLineBytes) {
    const cut = utf8SafeCut(bytes, start, start + maxLineBytes);
    fn?.(start, cut);
    n++;
    start = cut;
  }
  fn?.(start, end);
  return n;
}

const decoder = new TextDecoder("utf-8");
const strict = new TextDecoder("utf-8", { fatal: true });

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Base64 of `bytes` (btoa exists in browsers and in Node ≥ 16). */
function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** The chunk's bytes as a Uint8Array, whatever Socket.IO delivered (Buffer, Uint8Array or ArrayBuffer). */
export function chunkBytes(data: Uint8Array | ArrayBuffer): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

/**
 * The lines of a chunk, each stamped with the chunk's time and its own logical offset. Only the
 * subscriber that shows or parses lines pays for this (the server's live path never calls it for
 * a process nobody parses).
 */
export function decodeChunk(processId: string, chunk: Pick<OutputChunk, "stream" | "offset" | "seq" | "ts"> & { data: Uint8Array | ArrayBuffer }, maxLineBytes = DEFAULT_MAX_LINE_BYTES): LogLine[] {
  const bytes = chunkBytes(chunk.data);
  const { stream, seq, ts } = chunk;
  const out: LogLine[] = [];
  forEachLine(bytes, maxLineBytes, (start, end) => {
    const slice = bytes.subarray(start, end);
    const text = decoder.decode(slice);
    const offset = chunk.offset + start;
    // U+FFFD in the text: either the bytes were invalid or the line really contains U+FFFD.
    if (text.includes("\uFFFD") && !isValidUtf8(slice)) out.push({ processId, stream, offset, seq, ts, text, raw: base64(slice) });
    else out.push({ processId, stream, offset, seq, ts, text });
  });
  return out;
}

/** Every line of a `process.output` / `process:output` batch, in publication order (which is run order). */
export function outputLines(batch: { processId: string; chunks: readonly (Pick<OutputChunk, "stream" | "offset" | "seq" | "ts"> & { data: Uint8Array | ArrayBuffer })[] }): LogLine[] {
  return batch.chunks.flatMap((c) => decodeChunk(batch.processId, c));
}

/**
 * One process's chunk inside a packed `process:output` message: the chunk's fields, with its
 * bytes at `[start, start + length)` of the message's single binary `data` (start = the sum of
 * the previous items' lengths).
 */
export interface PackedChunk extends Omit<OutputChunk, "data"> {
  laneId: string;
  processId: string;
  length: number;
}

/** A `process:output` message: every chunk a flush has for one subscriber, as one header and one binary attachment. */
export interface PackedOutput {
  items: PackedChunk[];
  data: Uint8Array | ArrayBuffer;
}

/**
 * The chunks of a packed message, with `data` views into its attachment (no copy).
 * @throws RangeError when the items' lengths do not add up to the attachment's size
 */
export function unpackOutput(msg: PackedOutput): { laneId: string; processId: string; chunk: OutputChunk }[] {
  const bytes = chunkBytes(msg.data);
  let at = 0;
  const out = msg.items.map(({ laneId, processId, length, ...rest }) => {
    const chunk: OutputChunk = { ...rest, data: bytes.subarray(at, at + length) };
    at += length;
    return { laneId, processId, chunk };
  });
  if (at !== bytes.length) throw new RangeError(`process:output items cover ${at} bytes but the attachment holds ${bytes.length}`);
  return out;
}
