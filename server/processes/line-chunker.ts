/**
 * Cuts a byte stream into chunks of whole lines for live delivery (lib/log-chunk.ts): chunk
 * boundaries of the input may fall anywhere (inside a line, between `\r` and `\n`, inside a
 * UTF-8 sequence); each output chunk ends at a line boundary, and the partial last line waits
 * for the bytes that complete it. Decoding the output chunks with `decodeChunk` gives exactly
 * the lines {@link LineSplitter} gives for the same stream, however it was chunked (fuzz-tested
 * in line-chunker.test.ts), so live lines and lines read back agree on text and offset.
 *
 * Cost per input chunk: one `lastIndexOf` and an `indexOf` per line to count lines (no string,
 * no object per line, no copy: a run is a view of the pushed bytes, see {@link LineChunker.push}).
 * A partial line longer than `maxLineBytes + 1` is released in pieces of at most `maxLineBytes`,
 * cut where the splitter cuts them, so memory per stream is bounded.
 */
import { DEFAULT_MAX_LINE_BYTES, forEachLine, utf8SafeCut } from "@/lib/log-chunk";

/** Complete lines cut from the stream: `data` starts at logical `offset` and holds `lines` lines. */
export interface LineRun {
  offset: number;
  lines: number;
  data: Buffer;
}

const LF = 0x0a;

export class LineChunker {
  #pending: Buffer | null = null;
  #pendingOffset: number;

  /**
   * @param startOffset logical offset of the first byte that will be pushed
   * @param maxLineBytes longest line kept whole, in bytes
   */
  constructor(
    startOffset: number,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {
    this.#pendingOffset = startOffset;
  }

  /** Logical offset of the first byte not yet released (start of the partial line). */
  get consumed(): number {
    return this.#pendingOffset;
  }

  /** Logical offset just past the last byte pushed. */
  get end(): number {
    return this.#pendingOffset + (this.#pending?.length ?? 0);
  }

  /**
   * The partial last line held (bytes not yet ended by a newline), or null. `data` is the held
   * copy: a later push replaces it rather than changing it, so it stays valid.
   */
  get partial(): { offset: number; data: Buffer } | null {
    return this.#pending ? { offset: this.#pendingOffset, data: this.#pending } : null;
  }

  /** Bytes of the partial last line held in memory. */
  get pendingBytes(): number {
    return this.#pending?.length ?? 0;
  }

  /**
   * Feed the bytes that follow everything pushed so far. The partial last line is copied (it is
   * kept); the returned run is a view of `chunk` (or, when a kept partial line had to be joined,
   * of a new buffer), so it is valid as long as the caller leaves `chunk`'s memory alone.
   * @returns the complete lines now available, or null when there are none yet
   */
  push(chunk: Uint8Array): LineRun | null {
    if (chunk.length === 0) return null;
    const buf = this.#pending !== null ? Buffer.concat([this.#pending, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const offset = this.#pendingOffset;
    let end = buf.lastIndexOf(LF) + 1;
    // Long partial line: release its full pieces now. The `+ 1` allows for a CR that may turn out
    // to be half of a CRLF, so the pieces are the same however the stream was chunked.
    while (buf.length - end > this.maxLineBytes + 1) end = utf8SafeCut(buf, end, end + this.maxLineBytes);
    this.#pending = end < buf.length ? Buffer.from(buf.subarray(end)) : null;
    if (end === 0) return null;
    this.#pendingOffset = offset + end;
    const data = buf.subarray(0, end);
    return { offset, lines: forEachLine(data, this.maxLineBytes), data };
  }

  /** End of stream: release the partial last line (if any) as a line of its own. */
  flush(): LineRun | null {
    const p = this.#pending;
    if (!p) return null;
    const run = { offset: this.#pendingOffset, lines: forEachLine(p, this.maxLineBytes), data: p };
    this.#pendingOffset += p.length;
    this.#pending = null;
    return run;
  }
}
