/**
 * Reading a process's output back from its log files: by byte range, by line number, or the
 * last N lines. Used for finished processes and for live ones alike; for a live process only
 * what has already been published is returned (the caller passes the published offsets as
 * `end`), so a client can read history up to a point and continue with live lines after it
 * without gaps or duplicates.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { LogLine } from "@/lib/api";
import type { LogRange } from "@/lib/log-range";
import { AppError } from "@/lib/errors";
import { DEFAULT_MAX_LINE_BYTES } from "@/lib/log-chunk";
import { compareLogLines } from "@/lib/log-order";
import { LineChunker, type LineRun } from "./line-chunker";
import type { SplitLine } from "./line-splitter";
import {
  lastEntryAtOrBefore,
  alignToLineStart,
  emptyStreamState,
  readIndex,
  readLines,
  readRuns,
  readStateFile,
  startOfLastLines,
  stampFromIndex,
  type Run,
  type StreamName,
  type StreamState,
} from "./log-files";
import type { ProcLog } from "./proc-log";
import type { ProcessPaths } from "./wrapper";

/** One stream, ready to read: an open fd, its state, where it ends and whether it has ended. */
export interface StreamSource {
  processId: string;
  stream: StreamName;
  fd: number;
  st: StreamState;
  idxFile: string;
  /** The stream's runs (`meta/order`), in offset order: the order of its lines against the other stream's. */
  runs: readonly Run[];
  /** Logical offset reading stops at (published offset when live, file end when finished). */
  end: number;
  /** The process has ended: a last line without newline is complete. */
  ended: boolean;
}

export interface LogQuery {
  stream: StreamName;
  /** Logical byte offset; lines starting at or after it (aligned forward to a line start). */
  from?: number;
  /** Logical byte offset; only lines that end before it. */
  to?: number;
  /** 0-based line number to start at (instead of `from`). */
  fromLine?: number;
  /** Most lines to return (1..100,000, default 1000). */
  limit?: number;
}

/** A page of whole lines and where to continue (`GET /api/v1/processes/:id/logs`; its schema is lib/log-range.ts). */
export type LogPage = LogRange;

export const DEFAULT_LOG_LIMIT = 1000;
export const MAX_LOG_LIMIT = 100_000;

/**
 * Lines read back, with their run (-1 before the first recorded one) and a time: the index's
 * (≤ 200 ms early), but never before their run was read, so that within a process time and run
 * order agree (lib/log-order.ts orders processes by time).
 */
function toLogLines(src: StreamSource, lines: SplitLine[]): LogLine[] {
  const ts = stampFromIndex(lines, readIndex(src.idxFile), Date.now());
  return lines.map((l, i) => {
    const run = lastEntryAtOrBefore(src.runs, l.offset);
    const line: LogLine = { processId: src.processId, stream: src.stream, offset: l.offset, seq: run?.seq ?? -1, ts: Math.max(ts[i]!, run?.ts ?? 0), text: l.text };
    if (l.raw !== undefined) line.raw = l.raw;
    return line;
  });
}

/**
 * Read a page of lines.
 * @throws AppError invalid_input (negative or inverted range, bad limit),
 *   range_not_satisfiable (`from` beyond the end of the stream)
 */
export function readPage(src: StreamSource, q: LogQuery): LogPage {
  const limit = q.limit ?? DEFAULT_LOG_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LOG_LIMIT) throw new AppError("invalid_input", `limit must be 1..${MAX_LOG_LIMIT}`, { field: "limit" });
  for (const [k, v] of [["from", q.from], ["to", q.to], ["fromLine", q.fromLine]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new AppError("invalid_input", `${k} must be a non-negative integer`, { field: k });
  }
  const floor = Math.max(src.st.dropped, src.st.base);
  if (q.from !== undefined && q.from > src.end) {
    throw new AppError("range_not_satisfiable", `from=${q.from} is past the end of ${src.stream} (${src.end} bytes)`, { end: src.end });
  }
  const to = Math.min(q.to ?? src.end, src.end);
  let from: number;
  let skip = 0;
  if (q.fromLine !== undefined) {
    const e = lastEntryAtOrBefore(readIndex(src.idxFile).filter((x) => x.offset >= floor && x.offset <= src.end), q.fromLine, "line");
    from = e ? e.offset : floor;
    skip = e ? q.fromLine - e.line : floor === 0 ? q.fromLine : 0;
  } else {
    from = alignToLineStart(src.fd, src.st, Math.max(q.from ?? floor, floor), floor, src.end);
  }
  if (q.to !== undefined && q.to < from && q.fromLine === undefined) throw new AppError("invalid_input", "to must not be before from", { field: "to" });
  const { lines, next } = readLines(src.fd, src.st, { from, end: Math.max(from, to), includePartial: src.ended && to === src.end, limit, skip });
  const first = lines[0]?.offset ?? next;
  return { lines: toLogLines(src, lines), from: first, to: next, eof: next >= src.end, truncatedBefore: src.st.dropped };
}

/** The last `maxLines` lines of one stream. */
export function readLast(src: StreamSource, maxLines: number): LogLine[] {
  const floor = Math.max(src.st.dropped, src.st.base);
  const start = startOfLastLines(src.fd, src.st, maxLines, floor, src.end);
  const { lines } = readLines(src.fd, src.st, { from: start, end: src.end, includePartial: src.ended, limit: maxLines });
  return toLogLines(src, lines);
}

/** Merge the tails of both streams of a process in run order (lib/log-order.ts); the last `maxLines`. */
export function mergeTails(a: LogLine[], b: LogLine[], maxLines: number): LogLine[] {
  const all = a.concat(b).sort(compareLogLines);
  return all.slice(Math.max(0, all.length - maxLines));
}

/**
 * Open the named streams of a process for reading and run `fn` on them synchronously (a missing
 * file is a null source). For a followed process (`log`), its open fds and live state are used, so
 * a file deleted under us stays readable; `live` limits reading to what has been published.
 */
export function withStreamSources<T>(
  p: { processId: string; paths: ProcessPaths; log: ProcLog | null; live: boolean; ended: boolean },
  names: readonly StreamName[],
  fn: (srcs: (StreamSource | null)[]) => T[],
): T[] {
  const state = p.log?.state ?? readStateFile(p.paths.state) ?? { stdout: emptyStreamState(), stderr: emptyStreamState() };
  const runs = readRuns(p.paths.order);
  const opened: number[] = [];
  try {
    const srcs = names.map((name): StreamSource | null => {
      let fd = p.log?.fd(name) ?? null;
      if (fd === null) {
        try {
          fd = openSync(name === "stdout" ? p.paths.stdout : p.paths.stderr, "r");
          opened.push(fd);
        } catch {
          return null;
        }
      }
      const st = state[name];
      const end = p.live ? st.offset : Math.max(st.offset, st.base + fstatSync(fd).size);
      return { processId: p.processId, stream: name, fd, st, idxFile: name === "stdout" ? p.paths.stdoutIdx : p.paths.stderrIdx, runs: runs[name], end, ended: p.ended };
    });
    return fn(srcs);
  } finally {
    for (const fd of opened) closeSync(fd);
  }
}

/**
 * Whole lines of one stream as bytes, for a live subscriber catching up (realtime
 * output-fanout.ts), read into the caller's buffer `into` (from its start; the fanout reuses its
 * memory): from logical offset `from` (a line or piece start, as live chunks have), at most
 * `into.length` bytes, not past `to` (a live chunk end) and not past the end of the run `from` is
 * in (a run's lines share one `seq`; the next call reads the next run). Cut with the live path's
 * {@link LineChunker} rules, so the lines are the ones live delivery would have given.
 * @returns the lines and their run (`seq`), `data` a view of `into`; null when `from` is below
 *   what retention kept, or the file is shorter than expected
 * @throws RangeError when `into` cannot hold one whole line or piece
 *   (`min(to - from, DEFAULT_MAX_LINE_BYTES + 2)` bytes: the chunker releases a piece past max + 1)
 */
export function readChunkAt(src: StreamSource, from: number, to: number, into: Buffer): (LineRun & { seq: number }) | null {
  const floor = Math.max(src.st.dropped, src.st.base);
  if (from < floor || to > src.end || to <= from) return null;
  // A run starts where a live chunk did, so the bytes before it end in whole lines too.
  const next = src.runs.find((r) => r.offset > from);
  if (next && next.offset < to) to = next.offset;
  const seq = lastEntryAtOrBefore(src.runs, from)?.seq ?? -1;
  const want = Math.min(into.length, to - from);
  if (want < Math.min(to - from, DEFAULT_MAX_LINE_BYTES + 2)) throw new RangeError(`readChunkAt: ${into.length} bytes cannot hold one line or piece`);
  if (readSync(src.fd, into, 0, want, from - src.st.base) < want) return null;
  const chunker = new LineChunker(from);
  const run = chunker.push(into.subarray(0, want));
  // Reached `to`: a live chunk ended there, so what is left is whole (pieces or a final line),
  // and it follows the run in `into`.
  const rest = from + want === to ? chunker.flush() : null;
  if (!rest) return run && { ...run, seq };
  return { offset: from, lines: (run?.lines ?? 0) + rest.lines, seq, data: into.subarray(0, want) };
}
