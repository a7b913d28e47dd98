/**
 * Splits a byte stream into lines, exactly: chunk boundaries may fall anywhere (inside a line,
 * between `\r` and `\n`, inside a multi-byte UTF-8 sequence) and nothing is lost or altered.
 *
 * - A line is the bytes up to (not including) `\n`; a `\r` right before the `\n` is part of the
 *   terminator (CRLF) and is not in `text`. A lone `\r` (progress bars) stays in the text.
 * - ANSI escape sequences are ordinary bytes and stay in `text` untouched.
 * - `text` is the UTF-8 decoding (invalid bytes become U+FFFD); when the line's bytes are not
 *   valid UTF-8, `raw` carries them base64-encoded so the exact bytes are never lost.
 * - A line longer than `maxLineBytes` is emitted in pieces of at most that size (cut on a UTF-8
 *   character boundary when possible), so one runaway line cannot hold unbounded memory.
 * - `offset` is the logical byte offset of the line's first byte in its stream.
 *
 * Hot path: one `indexOf` scan per line, one string per line, one UTF-8 validity check per
 * chunk (per line only when the chunk is not valid UTF-8). The partial last line is the only
 * data copied between chunks.
 */
import { isUtf8 } from "node:buffer";
import { DEFAULT_MAX_LINE_BYTES, utf8SafeCut } from "@/lib/log-chunk";

export { DEFAULT_MAX_LINE_BYTES };

export interface SplitLine {
  /** Logical byte offset of the line's first byte. */
  offset: number;
  text: string;
  /** Base64 of the line's exact bytes; present only when they are not valid UTF-8. */
  raw?: string;
}

/** Builds the object for one line; lets the tailer create its final line objects directly (one allocation per line). */
export type LineFactory<T> = (offset: number, text: string, raw: string | undefined) => T;

const plainLine: LineFactory<SplitLine> = (offset, text, raw) => (raw === undefined ? { offset, text } : { offset, text, raw });

const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter<T = SplitLine> {
  #pending: Buffer | null = null;
  #pendingOffset: number;

  /**
   * @param startOffset logical offset of the first byte that will be pushed
   * @param maxLineBytes longest line kept whole, in bytes (longer lines are emitted in pieces)
   */
  constructor(
    startOffset: number,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
    private readonly make: LineFactory<T> = plainLine as unknown as LineFactory<T>,
  ) {
    this.#pendingOffset = startOffset;
  }

  /** Logical offset of the first byte not yet emitted as part of a line (start of the partial line). */
  get consumed(): number {
    return this.#pendingOffset;
  }

  /** Logical offset just past the last byte pushed. */
  get end(): number {
    return this.#pendingOffset + (this.#pending?.length ?? 0);
  }

  /** Bytes of the partial last line held in memory. */
  get pendingBytes(): number {
    return this.#pending?.length ?? 0;
  }

  /**
   * Feed the bytes that follow everything pushed so far; complete lines are appended to `out`.
   * `chunk` may be a view of a reused buffer: what is kept is copied.
   */
  push(chunk: Uint8Array, out: T[]): void {
    if (chunk.length === 0) return;
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const base = this.#pendingOffset;
    const lastLf = buf.lastIndexOf(LF);
    let start = 0;
    if (lastLf >= 0) {
      const allValid = isUtf8(buf.subarray(0, lastLf));
      let lf = buf.indexOf(LF, 0);
      while (lf !== -1 && lf <= lastLf) {
        const textEnd = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
        this.#emit(buf, start, textEnd, base, allValid, out);
        start = lf + 1;
        lf = buf.indexOf(LF, start);
      }
    }
    // Long partial line: emit its full pieces now rather than buffering without bound. The `+ 1`
    // allows for a CR that may turn out to be half of a CRLF, so the pieces are the same however
    // the stream was chunked.
    while (buf.length - start > this.maxLineBytes + 1) start = this.#piece(buf, start, base, out);
    this.#pendingOffset = base + start;
    // Copy the remainder: `chunk` may be a view of a buffer the caller reuses.
    this.#pending = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
  }

  /** End of stream: emit the partial last line (if any) as a line of its own. */
  flush(out: T[]): void {
    const p = this.#pending;
    if (!p) return;
    this.#emit(p, 0, p.length, this.#pendingOffset, false, out);
    this.#pendingOffset += p.length;
    this.#pending = null;
  }

  /** Emit bytes [start, end) of `buf` as one line, or as pieces of at most maxLineBytes. */
  #emit(buf: Buffer, start: number, end: number, base: number, knownValid: boolean, out: T[]): void {
    while (end - start > this.maxLineBytes) start = this.#piece(buf, start, base, out);
    out.push(this.#line(buf, start, end, base + start, knownValid));
  }

  #line(buf: Buffer, start: number, end: number, offset: number, knownValid: boolean): T {
    const text = buf.toString("utf8", start, end);
    if (knownValid || isUtf8(buf.subarray(start, end))) return this.make(offset, text, undefined);
    return this.make(offset, text, buf.toString("base64", start, end));
  }

  /** Emit one maxLineBytes piece starting at `start`; returns where the next piece starts. */
  #piece(buf: Buffer, start: number, base: number, out: T[]): number {
    const cut = utf8SafeCut(buf, start, start + this.maxLineBytes);
    out.push(this.#line(buf, start, cut, base + start, false));
    return cut;
  }

  /** Forget the partial line and continue at `offset` (after the file under us was truncated). */
  reset(offset: number): void {
    this.#pending = null;
    this.#pendingOffset = offset;
  }
}
