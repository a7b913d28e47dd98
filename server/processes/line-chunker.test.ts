import { describe, expect, it } from "vitest";
import { decodeChunk, forEachLine } from "@/lib/log-chunk";
import { LineChunker, type LineRun } from "./line-chunker";
import { LineSplitter, type SplitLine } from "./line-splitter";
import { mulberry32 } from "@/lib/seeded-random";

/** Bytes that stress the line rules: LF, CR, CRLF, ANSI, multi-byte UTF-8, invalid bytes, long runs. */
function randomStream(next: () => number, length: number): Buffer {
  const parts: Buffer[] = [];
  let n = 0;
  const atoms = ["\n", "\r", "\r\n", "\x1b[31m", "é", "€", "😀", "\xff", "abc", "x".repeat(40)].map((a) => (a === "\xff" ? Buffer.from([0xff, 0xc3]) : Buffer.from(a)));
  while (n < length) {
    const a = atoms[Math.floor(next() * atoms.length)]!;
    parts.push(a);
    n += a.length;
  }
  return Buffer.concat(parts);
}

function cutAt(next: () => number, length: number): number[] {
  const cuts: number[] = [];
  for (let i = 1; i < length; i++) if (next() < 0.15) cuts.push(i);
  return cuts;
}

function bySplitter(bytes: Buffer, cuts: number[], start: number, max: number): SplitLine[] {
  const s = new LineSplitter(start, max);
  const out: SplitLine[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    s.push(bytes.subarray(prev, c), out);
    prev = c;
  }
  s.flush(out);
  return out;
}

/** A run as recorded once its bytes are decoded: where it starts, how long it is, its line count. */
type RunShape = { offset: number; length: number; lines: number };

function byChunker(bytes: Buffer, cuts: number[], start: number, max: number): { lines: SplitLine[]; runs: RunShape[] } {
  const c = new LineChunker(start, max);
  const runs: RunShape[] = [];
  const lines: SplitLine[] = [];
  const take = (run: LineRun | null) => {
    if (!run) return;
    runs.push({ offset: run.offset, length: run.data.length, lines: run.lines });
    const decoded = decodeChunk("P", { stream: "stdout", offset: run.offset, seq: 0, ts: 0, data: run.data }, max);
    lines.push(...decoded.map(({ offset, text, raw }) => (raw === undefined ? { offset, text } : { offset, text, raw })));
  };
  // One reused read buffer, as the tailer uses: a run is decoded before the buffer is reused
  // (runs are views of it), and the bytes the chunker keeps must not alias it.
  const scratch = Buffer.alloc(bytes.length);
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    bytes.copy(scratch, 0, prev, cut);
    take(c.push(scratch.subarray(0, cut - prev)));
    scratch.fill(0x21);
    prev = cut;
  }
  take(c.flush());
  return { lines, runs };
}

describe("LineChunker + decodeChunk", () => {
  it("gives exactly the splitter's lines (text, raw, offset) for random streams and chunkings", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const next = mulberry32(seed);
      const bytes = randomStream(next, 20 + Math.floor(next() * 400));
      const cuts = cutAt(next, bytes.length);
      const max = [8, 16, 37, 1024][seed % 4]!;
      const start = seed * 1000;
      const want = bySplitter(bytes, cuts, start, max);
      const { lines, runs } = byChunker(bytes, cuts, start, max);
      expect(lines, `seed ${seed}`).toEqual(want);
      // Line counts carried by the runs match what decoding finds, and runs tile the stream.
      expect(runs.reduce((n, r) => n + r.lines, 0), `seed ${seed}`).toBe(want.length);
      let at = start;
      for (const r of runs) {
        expect(r.offset).toBe(at);
        at += r.length;
      }
      expect(at).toBe(start + bytes.length);
    }
  });

  it("holds a partial line until its newline, and releases it at flush", () => {
    const c = new LineChunker(0);
    expect(c.push(Buffer.from("no newline yet"))).toBeNull();
    expect(c.pendingBytes).toBe(14);
    const run = c.push(Buffer.from(" — done\nnext"));
    expect(run && { offset: run.offset, lines: run.lines, text: run.data.toString() }).toEqual({ offset: 0, lines: 1, text: "no newline yet — done\n" });
    const last = c.flush();
    expect(last && { offset: last.offset, lines: last.lines, text: last.data.toString() }).toEqual({ offset: run!.data.length, lines: 1, text: "next" });
    expect(c.flush()).toBeNull();
  });

  it("bounds the partial line it holds: an endless line is released in pieces", () => {
    const c = new LineChunker(0, 16);
    let released = 0;
    for (let i = 0; i < 100; i++) {
      released += c.push(Buffer.alloc(10, 0x61))?.lines ?? 0;
      expect(c.pendingBytes).toBeLessThanOrEqual(17 + 10);
    }
    expect(released).toBeGreaterThan(50);
  });

  it("counts lines without decoding them (CRLF, a lone CR, a trailing partial)", () => {
    expect(forEachLine(Buffer.from("a\r\nb\rc\n\nd"), 1024)).toBe(4);
    expect(forEachLine(Buffer.alloc(0), 1024)).toBe(0);
  });
});
