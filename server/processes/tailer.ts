/**
 * Follows the log files of every live process and publishes their new lines in batches.
 *
 * Wake-up: one inotify watch per process directory (`fs.watch`), which fires on every write to
 * `stdout.log`/`stderr.log` and when the wrapper drops its `exit` file; plus a slow safety poll
 * (default 1 s) in case an event is missed or the watch could not be created. A wake-up only marks
 * the process dirty; one flush per tailer serves all dirty processes `flushDelayMs` later (0, the
 * default: with setImmediate, after every wake-up libuv already delivered in this loop turn), so
 * a burst of writes costs one read per stream per flush (bounded latency, few syscalls, batched
 * lines; the more the server has to do, the bigger its batches). What is published is chunks of
 * whole lines as bytes (lib/log-chunk.ts), not line objects, as views of the tailer's one read
 * buffer: valid during the synchronous `onChunks` call only (listeners copy what they keep).
 * A flush reads at most `readBudget`
 * bytes per stream, then yields to the event loop and continues, so one chatty process cannot
 * starve the others or hold unbounded memory.
 *
 * A partial last line (a prompt, a progress bar: output with no newline yet) is not a line and is
 * not published as one; once it has stayed unchanged for `partialDelayMs` it is announced through
 * `onPartial`, so a viewer can show it until the line is completed and published.
 *
 * Why not `@logdna/tail-file`: it polls (`pollFrequencyMs`, default 1000 ms), so its delivery
 * latency is bounded below by the poll period, and it exposes bytes without the per-line logical
 * offsets, line numbers and exact resume points this pipeline persists. inotify wakes within
 * milliseconds (measured in supervisor.test.ts, reported as `first-line latency`).
 *
 * Ordering and durability per flush of a process: read → cut at the last newline → persist
 * offsets (one positional write, see log-files.ts) → publish. A restarted server resumes from the persisted offsets, so a
 * line is published once across a clean restart; if the server is SIGKILLed between persist and
 * publish, that one batch is not published live (it stays in the file and in readLog / tail).
 */
import { watch, type FSWatcher } from "node:fs";
import type { OutputChunk } from "@/lib/log-chunk";
import { STREAMS, type StreamName } from "./log-files";
import type { ProcLog } from "./proc-log";

export interface TailerOptions {
  /** Delay between the first wake-up and the flush that serves it (ms; 0 = setImmediate). */
  flushDelayMs: number;
  /** Safety poll period (ms). */
  pollMs: number;
  /** Most bytes read per stream per flush. */
  readBudget: number;
  /**
   * New output of one process: chunks of whole lines (stdout, then stderr, each in file order).
   * Chunk data is a view of the tailer's read buffer, overwritten by the next read: use or copy
   * it before returning.
   */
  onChunks: (log: ProcLog, chunks: OutputChunk[]) => void;
  /**
   * How long a partial last line (output not ended by a newline: a prompt, a progress bar) must
   * stay unchanged before {@link onPartial} shows it (ms); one that keeps growing (the same line,
   * redrawn with `\r`) is shown once a second. While output flows, each read ends in another
   * line, so no partial line is announced.
   */
  partialDelayMs: number;
  /** A stream's partial last line has not changed for `partialDelayMs` (`data` stays valid). */
  onPartial: (log: ProcLog, stream: StreamName, partial: { offset: number; data: Buffer }) => void;
  /** The wrapper's exit file appeared in a watched directory. */
  onExitFile: (processId: string) => void;
  /** A watched directory or its files went away / could not be watched. */
  onWarning: (log: ProcLog, message: string) => void;
}

// A dirty mask, per process, since its last flush:
/** Read this stream (a start, the safety poll: no event said it was written). */
const STDOUT = 1;
const STDERR = 2;
/** The kernel reported a write to this stream (or the last read left bytes of it unread). */
const WROTE_STDOUT = 4;
const WROTE_STDERR = 8;
/** The first report was of stderr: read stderr first. */
const STDERR_FIRST = 16;
/** A flush left both streams unread once for want of a report saying which came first. */
const DEFERRED = 32;

interface Entry {
  log: ProcLog;
  watcher: FSWatcher | null;
}

/** A partial last line seen at the end of a flush. */
interface PartialCandidate {
  log: ProcLog;
  stream: StreamName;
  /** Logical offsets of its first byte and just past its last: a new start is a new line. */
  start: number;
  end: number;
  /** When its end last moved, and when it was last announced (first seen, if never); performance.now() ms. */
  changedAt: number;
  shownAt: number;
  /** `end` when last announced (-1: never). */
  announcedEnd: number;
}

const BOTH = STDOUT | STDERR;
const WRITTEN = WROTE_STDOUT | WROTE_STDERR;
const STDERR_THEN_STDOUT: readonly StreamName[] = ["stderr", "stdout"];

/** A partial line that keeps growing (a progress bar) is announced at most this often (ms). */
const GROWING_PARTIAL_MS = 1000;

export class LogTailer {
  #entries = new Map<string, Entry>();
  /** Processes to read on the next flush → a dirty mask (STDOUT … DEFERRED above). */
  #dirty = new Map<string, number>();
  #flushTimer: NodeJS.Timeout | null = null;
  #pollTimer: NodeJS.Timeout | null = null;
  #buf: Buffer;
  #stopped = false;
  /** A zero-delay flush is queued with setImmediate. */
  #flushQueued = false;
  /** A process whose stream read first is being read up to this logical offset before its other stream is read. */
  #firstUpTo = new Map<string, number>();
  /** Partial last lines by `processId/stream`. */
  #partials = new Map<string, PartialCandidate>();
  #partialTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: TailerOptions) {
    // One read buffer for the tailer's life (fresh memory per read costs page faults): stdout is
    // read into its first half and stderr into its second, so both of a flush can be published
    // together. Drains read in bigger steps (they must reach the end before an exit is recorded).
    this.#buf = Buffer.allocUnsafeSlow(Math.max(2 * opts.readBudget, 256 * 1024));
  }

  /** Start following a process; reads what is already there on the next flush. */
  add(log: ProcLog): void {
    if (this.#stopped) return;
    let watcher: FSWatcher | null = null;
    try {
      watcher = watch(log.paths.dir, { persistent: false }, (_event, file) => {
        if (file === "exit") this.opts.onExitFile(log.processId);
        // inotify names the file, so a write to one stream costs no read of the other; and it
        // queues the events of one directory in write order, which says which stream came first.
        else if (file === "stdout.log") this.markDirty(log.processId, STDOUT, true);
        else if (file === "stderr.log") this.markDirty(log.processId, STDERR, true);
        else if (file === null) this.markDirty(log.processId);
      });
      watcher.on("error", (err) => this.opts.onWarning(log, `watching ${log.paths.dir} failed: ${err.message}; falling back to polling`));
    } catch (err) {
      this.opts.onWarning(log, `cannot watch ${log.paths.dir} (${(err as Error).message}); output of process ${log.processId} is polled`);
    }
    this.#entries.set(log.processId, { log, watcher });
    this.#pollTimer ??= setInterval(() => this.#poll(), this.opts.pollMs).unref();
    this.markDirty(log.processId);
  }

  /** Stop following a process (no final read; see {@link drain}). Does not close the ProcLog. */
  remove(processId: string): void {
    const e = this.#entries.get(processId);
    if (!e) return;
    e.watcher?.close();
    this.#entries.delete(processId);
    this.#dirty.delete(processId);
    this.#firstUpTo.delete(processId);
    for (const name of STREAMS) this.#partials.delete(`${processId}/${name}`);
    if (this.#entries.size === 0 && this.#pollTimer) {
      clearInterval(this.#pollTimer);
      this.#pollTimer = null;
    }
  }

  has(processId: string): boolean {
    return this.#entries.has(processId);
  }

  /**
   * Read `streams` (bit mask, default both) of a process on the next flush. `written`: the kernel
   * reported a write to that one stream; the first such report since the last flush decides
   * which stream that flush reads (and numbers) first.
   */
  markDirty(processId: string, streams = STDOUT | STDERR, written = false): void {
    if (this.#stopped) return;
    let mask = this.#dirty.get(processId) ?? 0;
    if (!written) mask |= streams;
    else if (streams === STDOUT) mask |= WROTE_STDOUT;
    else mask |= mask & WRITTEN ? WROTE_STDERR : WROTE_STDERR | STDERR_FIRST;
    this.#dirty.set(processId, mask);
    if (this.#flushTimer || this.#flushQueued) return;
    // 0: flush once the wake-ups already queued have all been handled (same loop turn).
    if (this.opts.flushDelayMs <= 0) {
      this.#flushQueued = true;
      setImmediate(() => {
        this.#flushQueued = false;
        this.#flush();
      });
    } else this.#flushTimer = setTimeout(() => this.#flush(), this.opts.flushDelayMs);
  }

  /**
   * Read everything written so far by a process and publish it; with `final`, also its partial
   * last lines (the process has ended, so nothing will complete them). Synchronous.
   */
  drain(log: ProcLog, final: boolean): void {
    const mask = this.#dirty.get(log.processId) ?? 0;
    this.#dirty.delete(log.processId);
    this.#firstUpTo.delete(log.processId);
    const ts = Date.now();
    for (const name of mask & STDERR_FIRST ? STDERR_THEN_STDOUT : STREAMS) {
      // Published after every read: the next read reuses the buffer the chunks are views of.
      let more = true;
      while (more) {
        const out: OutputChunk[] = [];
        more = log.readNew(name, this.#buf, this.#buf.length, ts, out);
        this.#publish(log, out);
      }
    }
    const out: OutputChunk[] = [];
    if (final) log.flushPartials(ts, out);
    this.#publish(log, out);
  }

  /**
   * A process has ended: read the rest of its output (partial last lines included) and stop
   * following it. One I/O turn first, so that the kernel's events for its last writes, which say
   * which stream it wrote first, are handled before the rest is read.
   */
  async finish(log: ProcLog): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.drain(log, true);
    this.remove(log.processId);
  }

  /** Drain every followed process once (used on shutdown); then stop all timers and watchers. */
  stop(): void {
    if (this.#stopped) return;
    for (const { log } of this.#entries.values()) this.drain(log, false);
    this.#stopped = true;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    if (this.#partialTimer) clearTimeout(this.#partialTimer);
    this.#flushTimer = this.#pollTimer = this.#partialTimer = null;
    for (const id of [...this.#entries.keys()]) this.remove(id);
  }

  #flush(): void {
    this.#flushTimer = null;
    if (this.#stopped || this.#dirty.size === 0) return;
    const dirty = [...this.#dirty];
    this.#dirty.clear();
    const ts = Date.now();
    let more = false;
    let deferred = false;
    for (const [id, mask] of dirty) {
      const e = this.#entries.get(id);
      if (!e) continue;
      // Reported writes decide what is read and in which order. A stream only the poll asked for
      // waits while the other has reports: if it was written, its report is on its way, and read
      // now it could hold bytes written after the other stream's next ones.
      const wrote = mask & WRITTEN;
      const streams = wrote ? (wrote & WROTE_STDOUT ? STDOUT : 0) | (wrote & WROTE_STDERR ? STDERR : 0) : mask & BOTH;
      if (!wrote && streams === BOTH && !(mask & DEFERRED) && e.log.hasUnread("stdout") && e.log.hasUnread("stderr")) {
        // Both streams written and no report yet of which came first: the reports are on their
        // way. Read after the next I/O turn has delivered them (or without them, if none came).
        this.#dirty.set(id, (this.#dirty.get(id) ?? 0) | mask | DEFERRED);
        deferred = true;
        continue;
      }
      const out: OutputChunk[] = [];
      // The stream written first is read (and numbered) first. When its read stops at the budget
      // (a burst bigger than one read), the other waits until the first has been read up to
      // where it ended at that moment: a burst, then the other stream, stay in that order.
      const first = wrote && mask & STDERR_FIRST ? STDERR : STDOUT;
      const second = first === STDOUT ? STDERR : STDOUT;
      let again = 0;
      if (streams & first && this.#read(e.log, first, ts, out)) again |= first;
      if (streams & second && again && wrote) {
        const name = first === STDOUT ? "stdout" : "stderr";
        const upTo = this.#firstUpTo.get(id) ?? e.log.logicalEnd(name);
        if (e.log.readEnd(name) < upTo) {
          this.#firstUpTo.set(id, upTo);
          again |= second;
        } else this.#firstUpTo.delete(id);
      }
      if (streams & second && !(again & second)) {
        this.#firstUpTo.delete(id);
        if (this.#read(e.log, second, ts, out)) again |= second;
      }
      this.#publish(e.log, out);
      if (again) {
        const leftFirst = again & first ? first : second;
        const left = (again & STDOUT ? WROTE_STDOUT : 0) | (again & STDERR ? WROTE_STDERR : 0) | (leftFirst === STDERR ? STDERR_FIRST : 0);
        const later = this.#dirty.get(id) ?? 0;
        this.#dirty.set(id, left | (later & ~STDERR_FIRST));
        more = true;
      } else this.#notePartials(e.log, streams);
    }
    // A deferred read: after the I/O phase of the next loop turn, which delivers pending inotify
    // events first. Data left over: continue right after other I/O callbacks have had their turn.
    if (deferred && !this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(() => {
        this.#flushQueued = false;
        this.#flush();
      });
    } else if (more && !deferred && !this.#flushTimer) this.#flushTimer = setTimeout(() => this.#flush(), 0);
  }

  /** Read one stream into its half of the buffer. @returns true when the budget was used up */
  #read(log: ProcLog, stream: number, ts: number, out: OutputChunk[]): boolean {
    return stream === STDOUT
      ? log.readNew("stdout", this.#buf, this.opts.readBudget, ts, out)
      : log.readNew("stderr", this.#buf.subarray(this.opts.readBudget), this.opts.readBudget, ts, out);
  }

  #publish(log: ProcLog, chunks: OutputChunk[]): void {
    if (chunks.length === 0) return;
    log.persist();
    this.opts.onChunks(log, chunks);
  }

  /** After reading a process's streams to their end: remember each one's partial last line. */
  #notePartials(log: ProcLog, streams: number): void {
    const now = performance.now();
    for (const name of STREAMS) {
      if (!(streams & (name === "stdout" ? STDOUT : STDERR))) continue;
      const p = log.partial(name);
      // The common case on the hot path (output ending in a newline, nothing on show): no work.
      if (!p && this.#partials.size === 0) continue;
      const key = `${log.processId}/${name}`;
      if (!p) {
        this.#partials.delete(key);
        continue;
      }
      const end = p.offset + p.data.length;
      const c = this.#partials.get(key);
      if (c?.start === p.offset) {
        if (c.end === end) continue;
        c.end = end;
        c.changedAt = now;
      } else this.#partials.set(key, { log, stream: name, start: p.offset, end, changedAt: now, shownAt: now, announcedEnd: -1 });
      this.#partialTimer ??= setTimeout(() => this.#announcePartials(), this.opts.partialDelayMs).unref();
    }
  }

  /** Announce the partial lines due (unchanged for `partialDelayMs`, or growing and not shown for a second); re-arm for the rest. */
  #announcePartials(): void {
    this.#partialTimer = null;
    if (this.#stopped) return;
    const now = performance.now();
    let next = Infinity;
    for (const c of this.#partials.values()) {
      if (c.announcedEnd === c.end) continue;
      const due = Math.min(c.changedAt + this.opts.partialDelayMs, c.shownAt + GROWING_PARTIAL_MS);
      if (due > now) {
        next = Math.min(next, due);
        continue;
      }
      c.announcedEnd = c.end;
      c.shownAt = now;
      const p = c.log.partial(c.stream);
      if (p && p.offset === c.start && p.offset + p.data.length === c.end) this.opts.onPartial(c.log, c.stream, p);
    }
    if (next !== Infinity) this.#partialTimer = setTimeout(() => this.#announcePartials(), Math.max(1, next - now)).unref();
  }

  #poll(): void {
    for (const [id, e] of this.#entries) {
      e.log.checkFiles();
      this.markDirty(id);
    }
  }
}
