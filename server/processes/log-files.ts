/**
 * The on-disk format of a process's output besides the raw logs, and reading lines back.
 *
 * Offsets are *logical*: bytes since the stream began. They survive retention (which punches
 * holes into the head of a file, so physical = logical - base with base normally 0) and an
 * outside truncation of the file (then `base` moves so logical offsets keep increasing).
 *
 * - `meta/state`: a fixed 512-byte record, JSON padded with spaces, rewritten in place with one
 *   positional write (atomic with respect to a crash of the server) before each batch of lines is
 *   published, so a restarted server resumes exactly after the last published line.
 * - `meta/<stream>.idx`: a sparse index, appended at most every {@link INDEX_EVERY_MS} ms or
 *   {@link INDEX_EVERY_BYTES} bytes: records of three little-endian float64
 *   `(offset, line, ts)` = "the line starting at logical `offset` is line number `line`
 *   (0-based) of the stream and was read at `ts` (ms since epoch)". It gives read-back lines a
 *   timestamp (accurate to the index granularity), resolves line-number queries without counting
 *   from the start, and marks the line boundaries retention may drop up to.
 * - `meta/order`: the order across the two streams, appended once per **run** (a stretch of one
 *   stream's output the tailer published before it published the other stream's): records of
 *   four little-endian float64 `(seq, stream, offset, ts)` = "from logical `offset` of `stream`
 *   (0 stdout, 1 stderr) on, the lines are run number `seq` of the process, first read at `ts`".
 *   A process writing one stream only has one record. Appended before the state record that
 *   covers it, so after a crash a re-read may append records again: {@link readRuns} lets a
 *   later record win over the earlier ones it repeats.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { LineSplitter, type SplitLine } from "./line-splitter";

export type StreamName = "stdout" | "stderr";
export const STREAMS: readonly StreamName[] = ["stdout", "stderr"];

export interface StreamState {
  /** Logical offset just past the last published line. */
  offset: number;
  /** Number of lines published before `offset` (= 0-based number of the next line). */
  line: number;
  /** Logical offset of the file's physical byte 0 (moves only when something truncated the file under us). */
  base: number;
  /** Logical offset below which bytes are gone (retention or outside truncation); a line boundary. */
  dropped: number;
}

export type ProcState = Record<StreamName, StreamState>;

const STATE_BYTES = 512;
export const INDEX_EVERY_MS = 200;
export const INDEX_EVERY_BYTES = 1024 * 1024;
const ENTRY_BYTES = 24;

export function emptyStreamState(offset = 0): StreamState {
  return { offset, line: 0, base: 0, dropped: 0 };
}

/** Read `meta/state`; null when it is missing or unreadable. */
export function readStateFile(file: string): ProcState | null {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<ProcState>;
    if (!parsed.stdout || !parsed.stderr) return null;
    return { stdout: { ...emptyStreamState(), ...parsed.stdout }, stderr: { ...emptyStreamState(), ...parsed.stderr } };
  } catch {
    return null;
  }
}

/** Rewrite the state record in place at position 0 (one write syscall). `fd` opened with "r+"/"w". */
export function writeStateFile(fd: number, state: ProcState): void {
  const json = JSON.stringify(state);
  if (json.length > STATE_BYTES - 1) throw new Error("state record too large");
  // One scratch record for every write (they are synchronous): this runs once per published
  // batch, and a fresh zero-filled buffer each time was a measurable share of GC work.
  const buf = stateScratch;
  buf.fill(0x20, buf.write(json, 0, "utf8"));
  buf[STATE_BYTES - 1] = 0x0a;
  writeSync(fd, buf, 0, STATE_BYTES, 0);
}
const stateScratch = Buffer.allocUnsafeSlow(STATE_BYTES);

export interface IndexEntry {
  offset: number;
  line: number;
  ts: number;
}

/** Append one index entry. */
export function appendIndex(fd: number, e: IndexEntry): void {
  const buf = Buffer.allocUnsafe(ENTRY_BYTES);
  buf.writeDoubleLE(e.offset, 0);
  buf.writeDoubleLE(e.line, 8);
  buf.writeDoubleLE(e.ts, 16);
  writeSync(fd, buf);
}

/** All entries of an index file, in file order (ascending offset); empty if it is missing. */
export function readIndex(file: string): IndexEntry[] {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return [];
  }
  const out: IndexEntry[] = [];
  for (let p = 0; p + ENTRY_BYTES <= buf.length; p += ENTRY_BYTES) {
    out.push({ offset: buf.readDoubleLE(p), line: buf.readDoubleLE(p + 8), ts: buf.readDoubleLE(p + 16) });
  }
  return out;
}

/** Last entry (of the index, or of a stream's runs) whose `key` is ≤ `at`; binary search over entries sorted by it. */
export function lastEntryAtOrBefore<T extends { offset: number }>(idx: readonly T[], at: number, key: keyof T & ("offset" | "line") = "offset"): T | null {
  let lo = 0;
  let hi = idx.length - 1;
  let found: T | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((idx[mid]![key] as number) <= at) {
      found = idx[mid]!;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Where one run of output begins (see the `meta/order` format above). */
export interface Run {
  seq: number;
  stream: StreamName;
  /** Logical offset of the run's first byte in its stream. */
  offset: number;
  /** When it was read (ms since epoch). */
  ts: number;
}

const RUN_BYTES = 32;
const runScratch = Buffer.allocUnsafeSlow(RUN_BYTES);

/** Append one run record (one write). `fd` opened with "a". */
export function appendRun(fd: number, r: Run): void {
  runScratch.writeDoubleLE(r.seq, 0);
  runScratch.writeDoubleLE(r.stream === "stdout" ? 0 : 1, 8);
  runScratch.writeDoubleLE(r.offset, 16);
  runScratch.writeDoubleLE(r.ts, 24);
  writeSync(fd, runScratch, 0, RUN_BYTES);
}

/**
 * The runs of a process, per stream in offset order (each also in `seq` order). A record that
 * repeats a run number or a stream position already recorded (written again after a crash, see
 * above) replaces what it repeats. Empty when the file is missing (output from before runs were
 * recorded).
 */
export function readRuns(file: string): Record<StreamName, Run[]> {
  const runs: Record<StreamName, Run[]> = { stdout: [], stderr: [] };
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return runs;
  }
  for (let p = 0; p + RUN_BYTES <= buf.length; p += RUN_BYTES) {
    const r: Run = { seq: buf.readDoubleLE(p), stream: buf.readDoubleLE(p + 8) === 0 ? "stdout" : "stderr", offset: buf.readDoubleLE(p + 16), ts: buf.readDoubleLE(p + 24) };
    for (const name of STREAMS) {
      const list = runs[name];
      while (list.length && (list.at(-1)!.seq >= r.seq || (name === r.stream && list.at(-1)!.offset >= r.offset))) list.pop();
    }
    runs[r.stream].push(r);
  }
  return runs;
}

/** The latest run of a process (highest `seq`), or null. */
export function lastRun(runs: Record<StreamName, Run[]>): Run | null {
  const [a, b] = [runs.stdout.at(-1), runs.stderr.at(-1)];
  return (a && b ? (a.seq > b.seq ? a : b) : a ?? b) ?? null;
}

/** Logical size of a log file: `base` + its physical size; `base` when it cannot be read. */
export function logicalEnd(fd: number, st: StreamState): number {
  try {
    return st.base + fstatSync(fd).size;
  } catch {
    return st.base;
  }
}

export interface ReadRange {
  /** Logical offset of a line start to read from. */
  from: number;
  /** Logical offset to stop at; lines starting at or after it are not returned. */
  end: number;
  /** Emit a final line without newline that ends at `end` (the stream has ended). */
  includePartial: boolean;
  /** Most lines to return. */
  limit: number;
  /** Lines to skip before collecting (for line-number queries). */
  skip?: number;
}

const CHUNK = 1024 * 1024;

/**
 * Read whole lines from an open log file between logical offsets.
 * @returns the lines and `next`, the logical offset just past the last returned line
 */
export function readLines(fd: number, st: StreamState, r: ReadRange): { lines: SplitLine[]; next: number } {
  const splitter = new LineSplitter(r.from);
  const lines: SplitLine[] = [];
  const batch: SplitLine[] = [];
  const buf = Buffer.allocUnsafe(Math.max(1, Math.min(CHUNK, r.end - r.from)));
  let skip = r.skip ?? 0;
  let pos = r.from;
  while (pos < r.end) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, r.end - pos), pos - st.base);
    if (n === 0) break;
    pos += n;
    batch.length = 0;
    splitter.push(buf.subarray(0, n), batch);
    if (pos >= r.end && r.includePartial) splitter.flush(batch);
    for (const line of batch) {
      if (skip > 0) skip--;
      else if (lines.length === r.limit) return { lines, next: line.offset };
      else lines.push(line);
    }
    // Every line of the batch is returned: the next one starts where the splitter stands.
    if (lines.length === r.limit) break;
  }
  return { lines, next: splitter.consumed };
}

/**
 * First line start at or after logical offset `at` (≥ `floor`): `at` itself if the byte before it
 * is a newline, else just past the next newline (`end` if there is none before `end`).
 */
export function alignToLineStart(fd: number, st: StreamState, at: number, floor: number, end: number): number {
  if (at <= floor) return floor;
  const buf = Buffer.allocUnsafe(64 * 1024);
  let pos = at - 1;
  while (pos < end) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos - st.base);
    if (n === 0) return end;
    const lf = buf.subarray(0, n).indexOf(0x0a);
    if (lf >= 0) return pos + lf + 1;
    pos += n;
  }
  return end;
}

/**
 * Logical offset of the first of the last `count` lines ending at `end` (not below `floor`),
 * scanning backwards in 64 KiB chunks.
 */
export function startOfLastLines(fd: number, st: StreamState, count: number, floor: number, end: number): number {
  if (count <= 0) return end;
  const buf = Buffer.allocUnsafe(64 * 1024);
  // A newline as the very last byte terminates the last line; it does not start a new one.
  let searchEnd = end - 1;
  let found = 0;
  while (searchEnd > floor) {
    const chunkStart = Math.max(floor, searchEnd - buf.length);
    const n = readSync(fd, buf, 0, searchEnd - chunkStart, chunkStart - st.base);
    let i = n - 1;
    while (i >= 0) {
      const lf = buf.lastIndexOf(0x0a, i);
      if (lf < 0 || lf > n - 1) break;
      found++;
      if (found === count) return chunkStart + lf + 1;
      i = lf - 1;
    }
    searchEnd = chunkStart;
    if (n === 0) break;
  }
  return floor;
}

/** Give each line the timestamp of the index entry covering it (`fallback` before the first entry). */
export function stampFromIndex(lines: SplitLine[], idx: IndexEntry[], fallback: number): number[] {
  const ts: number[] = new Array<number>(lines.length);
  for (let i = 0; i < lines.length; i++) ts[i] = lastEntryAtOrBefore(idx, lines[i]!.offset)?.ts ?? fallback;
  return ts;
}

/** Open a file read-only, run `fn`, close it. */
export function withReadFd<T>(file: string, fn: (fd: number) => T): T {
  const fd = openSync(file, "r");
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}
