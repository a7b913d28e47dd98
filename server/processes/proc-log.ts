/**
 * The live output of one process: both log files open for reading, a line chunker per stream,
 * and the bookkeeping files (`meta/state`, `meta/<stream>.idx`, see log-files.ts) kept open for
 * cheap positional writes. The tailer drives it; retention trims it.
 *
 * Failure policy: nothing here throws to the caller for an I/O problem with one process; each
 * problem is reported once through `onWarning` and the stream carries on (or stops) by itself,
 * so one broken process never affects another lane.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from "node:fs";
import type { OutputChunk } from "@/lib/log-chunk";
import { LineChunker, type LineRun } from "./line-chunker";
import {
  INDEX_EVERY_BYTES,
  INDEX_EVERY_MS,
  STREAMS,
  appendIndex,
  appendRun,
  emptyStreamState,
  lastRun,
  readRuns,
  readStateFile,
  writeStateFile,
  type ProcState,
  type StreamName,
  type StreamState,
} from "./log-files";
import type { ProcessPaths } from "./wrapper";
import path from "node:path";

interface StreamReader {
  name: StreamName;
  file: string;
  fd: number | null;
  idxFd: number | null;
  st: StreamState;
  chunker: LineChunker;
  lastIdxTs: number;
  lastIdxOffset: number;
  /** Identity of the file we read (to notice it being replaced). */
  ino: number;
  /** The last bytes read (up to FINGERPRINT), to notice a truncation the file size hides. */
  fp: Buffer;
}

/** Bytes re-read before each read position to detect truncation. */
export const FINGERPRINT = 16;
const EMPTY = Buffer.alloc(0);

/** The up to FINGERPRINT bytes before physical position `phys` (not below the punched head). */
function readFingerprint(fd: number, phys: number, droppedPhys: number): Buffer {
  const from = Math.max(0, phys - FINGERPRINT, Math.floor(droppedPhys / 4096) * 4096);
  if (from >= phys) return EMPTY;
  // Full length even if the file is now shorter: the first read then sees too few bytes and
  // reports the truncation.
  const buf = Buffer.alloc(phys - from);
  try {
    readSync(fd, buf, 0, buf.length, from);
    return buf;
  } catch {
    return EMPTY;
  }
}

export class ProcLog {
  readonly state: ProcState;
  readonly streams: Record<StreamName, StreamReader>;
  #stateFd: number | null = null;
  #warned = new Set<string>();
  #closed = false;
  /** The run being published: its number and stream (continued from `meta/order` after a restart). */
  #run: { seq: number; stream: StreamName } | null;
  /** `meta/order`, opened at the first run. */
  #orderFd: number | null = null;

  /**
   * @param pid the wrapper's pid when it is alive: a log file deleted under us can still be
   *   reopened through `/proc/<pid>/fd/{1,2}` (the wrapper holds it open).
   */
  constructor(
    readonly processId: string,
    readonly laneId: string | null,
    readonly paths: ProcessPaths,
    initial: ProcState | null,
    private readonly onWarning: (message: string) => void,
    pid: number | null = null,
  ) {
    this.state = initial ?? readStateFile(paths.state) ?? { stdout: emptyStreamState(), stderr: emptyStreamState() };
    this.#stateFd = this.#try("state", () => {
      mkdirSync(path.dirname(paths.state), { recursive: true });
      if (!existsSync(paths.state)) writeFileSync(paths.state, "");
      return openSync(paths.state, "r+");
    });
    const open = (name: StreamName, fdNum: number): StreamReader => {
      const file = name === "stdout" ? paths.stdout : paths.stderr;
      const st = this.state[name];
      let fd = this.#try(`open-${name}`, () => openSync(file, "r"), true);
      if (fd === null && pid !== null) fd = this.#try(`reopen-${name}`, () => openSync(`/proc/${pid}/fd/${fdNum}`, "r"));
      if (fd === null) this.#warn(`missing-${name}`, `${name}.log of process ${processId} is missing; its output cannot be read`);
      const idxFd = this.#try(`idx-${name}`, () => openSync(name === "stdout" ? paths.stdoutIdx : paths.stderrIdx, "a"));
      const ino = fd === null ? 0 : fstatSync(fd).ino;
      const fp = fd === null ? EMPTY : readFingerprint(fd, st.offset - st.base, st.dropped - st.base);
      return { name, file, fd, idxFd, st, chunker: new LineChunker(st.offset), lastIdxTs: 0, lastIdxOffset: -Infinity, ino, fp };
    };
    this.streams = { stdout: open("stdout", 1), stderr: open("stderr", 2) };
    const last = lastRun(readRuns(paths.order));
    this.#run = last && { seq: last.seq, stream: last.stream };
  }

  /**
   * Read what is new in one stream (at most `budget` bytes into `buf`) and append its complete
   * lines to `out` as one chunk stamped with `ts`; the chunk's data is usually a view of `buf`
   * (valid until the caller reuses it). Detects a file truncated under us.
   *
   * Truncation check at no extra syscall: each read starts up to {@link FINGERPRINT} bytes early
   * and compares them with the last bytes read before. A file that was truncated and has already
   * grown past our position again shows different bytes there (a size check alone would miss
   * it); a file still shorter than our position returns too few bytes.
   * @returns true when the budget was used up (there may be more to read)
   */
  readNew(name: StreamName, buf: Buffer, budget: number, ts: number, out: OutputChunk[]): boolean {
    const s = this.streams[name];
    if (s.fd === null || this.#closed) return false;
    const phys = s.chunker.end - s.st.base;
    // Bytes below the punched head read back as zeros: never fingerprint them.
    const punched = Math.floor((s.st.dropped - s.st.base) / 4096) * 4096;
    const back = Math.max(0, Math.min(s.fp.length, phys - punched));
    const want = Math.min(budget, buf.length) - FINGERPRINT;
    let n: number;
    try {
      n = readSync(s.fd, buf, 0, want + back, phys - back);
    } catch (err) {
      this.#warn(`read-${name}`, `reading ${name}.log of process ${this.processId} failed: ${(err as Error).message}`);
      return false;
    }
    if (n < back || buf.compare(s.fp, s.fp.length - back, s.fp.length, 0, back) !== 0) {
      this.#truncated(s, ts, out, phys);
      return true; // read again from the new start
    }
    if (n === back) return false;
    const data = buf.subarray(back, n);
    s.fp = Buffer.from(data.length >= FINGERPRINT ? data.subarray(data.length - FINGERPRINT) : Buffer.concat([s.fp, data]).subarray(-FINGERPRINT));
    this.#advance(s, ts, out, s.chunker.push(data));
    return n - back === want;
  }

  /** A stream's partial last line, held until a newline ends it (see LineChunker.partial); null once closed. */
  partial(name: StreamName): { offset: number; data: Buffer } | null {
    return this.#closed ? null : this.streams[name].chunker.partial;
  }

  /** End of the process: emit every stream's partial last line. */
  flushPartials(ts: number, out: OutputChunk[]): void {
    for (const name of STREAMS) {
      const s = this.streams[name];
      this.#advance(s, ts, out, s.chunker.flush());
    }
  }

  /** Persist the state record; call before publishing the lines it covers. */
  persist(): void {
    // Never write through an fd number after close: the OS may have handed it to another file.
    if (this.#stateFd === null || this.#closed) return;
    try {
      writeStateFile(this.#stateFd, this.state);
    } catch (err) {
      this.#warn("persist", `cannot persist log offsets of process ${this.processId}: ${(err as Error).message}`);
    }
  }

  /**
   * Retention dropped the head of a stream up to `cut` (a line boundary whose 0-based line number
   * is `line`): record it in the state and the index. False if this log is already closed.
   */
  recordDrop(name: StreamName, cut: { offset: number; line: number }): boolean {
    if (this.#closed) return false;
    const s = this.streams[name];
    s.st.dropped = cut.offset;
    if (s.idxFd !== null) {
      const fd = s.idxFd;
      this.#try(`index-${name}`, () => appendIndex(fd, { offset: cut.offset, line: cut.line, ts: Date.now() }));
    }
    this.persist();
    return true;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Logical end of a stream's file (what has been written so far). */
  logicalEnd(name: StreamName): number {
    const s = this.streams[name];
    if (s.fd === null) return s.st.offset;
    try {
      return s.st.base + fstatSync(s.fd).size;
    } catch {
      return s.st.offset;
    }
  }

  /** Logical offset up to which a stream has been read (its partial last line included). */
  readEnd(name: StreamName): number {
    return this.streams[name].chunker.end;
  }

  /** Whether a stream's file holds bytes not read yet, or has been cut under the reader (one fstat). */
  hasUnread(name: StreamName): boolean {
    return this.streams[name].fd !== null && this.logicalEnd(name) !== this.readEnd(name);
  }

  /** The open read fd of a stream (null if unreadable); valid until {@link close}. */
  fd(name: StreamName): number | null {
    // A closed log's fd numbers may already belong to other files.
    return this.#closed ? null : this.streams[name].fd;
  }

  /** Safety check run by the tailer's slow poll: was a log file deleted or replaced under us? */
  checkFiles(): void {
    for (const name of STREAMS) {
      const s = this.streams[name];
      if (s.fd === null) continue;
      let ino: number;
      try {
        ino = statSync(s.file).ino;
      } catch {
        this.#warn(`deleted-${name}`, `${name}.log of process ${this.processId} was deleted under the server; live output continues from the open file but cannot be read back after a restart`);
        continue;
      }
      if (ino !== s.ino) this.#warn(`replaced-${name}`, `${name}.log of process ${this.processId} was replaced under the server; the process still writes to the old file, which is followed`);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const fd of [this.#stateFd, this.#orderFd, this.streams.stdout.fd, this.streams.stdout.idxFd, this.streams.stderr.fd, this.streams.stderr.idxFd]) {
      if (fd !== null) this.#try("close", () => closeSync(fd));
    }
  }

  /**
   * Publish complete lines of one stream (if any): append them to `out` as a chunk of the current
   * run (a new run when the other stream was published last, recorded in `meta/order` first),
   * advance the state, and append an index entry for them when one is due.
   */
  #advance(s: StreamReader, ts: number, out: OutputChunk[], run: LineRun | null): void {
    // After close nothing is published (and no fd is written through: its number may be reused).
    if (!run || run.lines === 0 || this.#closed) return;
    if (this.#run?.stream !== s.name) this.#startRun(s.name, run.offset, ts);
    out.push({ stream: s.name, offset: run.offset, lines: run.lines, seq: this.#run!.seq, ts, data: run.data });
    if (s.idxFd !== null && (ts - s.lastIdxTs >= INDEX_EVERY_MS || run.offset - s.lastIdxOffset >= INDEX_EVERY_BYTES)) {
      const fd = s.idxFd;
      if (this.#try(`index-${s.name}`, () => appendIndex(fd, { offset: run.offset, line: s.st.line, ts })) !== null) {
        s.lastIdxTs = ts;
        s.lastIdxOffset = run.offset;
      }
    }
    s.st.line += run.lines;
    s.st.offset = s.chunker.consumed;
  }

  /** The other stream's output follows: a new run, recorded before any line of it is published. */
  #startRun(stream: StreamName, offset: number, ts: number): void {
    const seq = (this.#run?.seq ?? -1) + 1;
    this.#run = { seq, stream };
    this.#orderFd ??= this.#try("order", () => openSync(this.paths.order, "a"));
    const fd = this.#orderFd;
    if (fd !== null) this.#try("order", () => appendRun(fd, { seq, stream, offset, ts }));
  }

  /** The file was truncated under us: continue at its new physical start, logical offsets still increasing. */
  #truncated(s: StreamReader, ts: number, out: OutputChunk[], phys: number): void {
    // Deliver the partial line we hold (its bytes did exist).
    this.#advance(s, ts, out, s.chunker.flush());
    const at = s.chunker.end;
    s.st.base = at;
    s.st.dropped = at;
    s.st.offset = at;
    s.fp = EMPTY;
    s.lastIdxTs = 0; // force an index entry at the new start
    this.persist();
    // A new warning each time: every truncation is worth reporting.
    this.onWarning(`${s.name}.log of process ${this.processId} was truncated outside Laneboard (we had read ${phys} bytes); following it from its new start at logical offset ${at}`);
  }

  /** Run `fn`; on error warn once under `key` and return null. */
  #try<T>(key: string, fn: () => T, quiet = false): T | null {
    try {
      return fn();
    } catch (err) {
      if (!quiet) this.#warn(key, `process ${this.processId}: ${key} failed: ${(err as Error).message}`);
      return null;
    }
  }

  #warn(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.onWarning(message);
  }
}
