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
 * `onPartial` (partial-announcer.ts), so a viewer can show it until the line is published.
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
import { PartialLineAnnouncer } from "./partial-announcer";
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

const BOTH = STDOUT | STDERR;
const WRITTEN = WROTE_STDOUT | WROTE_STDERR;
const STDERR_THEN_STDOUT: readonly StreamName[] = ["stderr", "stdout"];

/** A dirty mask with one more wake-up added (see {@link LogTailer.markDirty}). */
function addToMask(mask: number, streams: number, written: boolean): number {
  if (!written) return mask | streams;
  if (streams === STDOUT) return mask | WROTE_STDOUT;
  return mask | (mask & WRITTEN ? WROTE_STDERR : WROTE_STDERR | STDERR_FIRST);
}

export class LogTailer {
  #entries = new Map<string, Entry>();
  /** Processes watched before they are followed ({@link watchEarly}): the watch and the events seen so far. */
  #early = new Map<string, { watcher: FSWatcher | null; mask: number }>();
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
  #partials: PartialLineAnnouncer;

  constructor(private readonly opts: TailerOptions) {
    // One read buffer for the tailer's life (fresh memory per read costs page faults): stdout is
    // read into its first half and stderr into its second, so both of a flush can be published
    // together. Drains read in bigger steps (they must reach the end before an exit is recorded).
    this.#buf = Buffer.allocUnsafeSlow(Math.max(2 * opts.readBudget, 256 * 1024));
    this.#partials = new PartialLineAnnouncer(opts.partialDelayMs, (log, stream, partial) => opts.onPartial(log, stream, partial));
  }

  /**
   * Watch a process's directory before its command starts, so that every write to its streams
   * has an inotify event (the events are what orders stdout against stderr; writes made before a
   * watch exists have none). Events until {@link add} are kept; `add` adopts the watch. Without
   * this, a command that writes at once can write before `add` watches, and its first lines are
   * then read stdout first whatever their order.
   */
  watchEarly(processId: string, dir: string): void {
    if (this.#stopped || this.#entries.has(processId) || this.#early.has(processId)) return;
    const early = { watcher: null as FSWatcher | null, mask: 0 };
    this.#early.set(processId, early);
    early.watcher = this.#watch(processId, dir, null);
  }

  /** Start following a process; reads what is already there on the next flush. */
  add(log: ProcLog): void {
    if (this.#stopped) return;
    const early = this.#early.get(log.processId);
    this.#early.delete(log.processId);
    const watcher = early?.watcher ?? this.#watch(log.processId, log.paths.dir, log);
    this.#entries.set(log.processId, { log, watcher });
    this.#pollTimer ??= setInterval(() => this.#poll(), this.opts.pollMs).unref();
    if (early?.mask) this.#dirty.set(log.processId, (this.#dirty.get(log.processId) ?? 0) | early.mask);
    this.markDirty(log.processId);
  }

  /** An inotify watch on a process directory (null when it cannot be made: the safety poll reads). */
  #watch(processId: string, dir: string, log: ProcLog | null): FSWatcher | null {
    const warn = (message: string) => {
      const l = log ?? this.#entries.get(processId)?.log;
      if (l) this.opts.onWarning(l, message);
    };
    try {
      const watcher = watch(dir, { persistent: false }, (event, file) => {
        if (file === "exit") this.opts.onExitFile(processId);
        // inotify names the file, so a write to one stream costs no read of the other; and it
        // queues the events of one directory in write order, which says which stream came first.
        // Only a write ("change": IN_MODIFY) says so; a file's creation or removal ("rename") does not.
        else if (event === "change" && file === "stdout.log") this.#event(processId, STDOUT, true);
        else if (event === "change" && file === "stderr.log") this.#event(processId, STDERR, true);
        else if (file === null || file === "stdout.log" || file === "stderr.log") this.#event(processId, BOTH, false);
      });
      watcher.on("error", (err) => warn(`watching ${dir} failed: ${err.message}; falling back to polling`));
      return watcher;
    } catch (err) {
      warn(`cannot watch ${dir} (${(err as Error).message}); output of process ${processId} is polled`);
      return null;
    }
  }

  /** A watch event: for a followed process, mark it dirty; before {@link add}, keep it. */
  #event(processId: string, streams: number, written: boolean): void {
    const early = this.#early.get(processId);
    if (early) early.mask = addToMask(early.mask, streams, written);
    else this.markDirty(processId, streams, written);
  }

  /** Stop following a process (no final read; see {@link drain}). Does not close the ProcLog. */
  remove(processId: string): void {
    this.#early.get(processId)?.watcher?.close();
    this.#early.delete(processId);
    const e = this.#entries.get(processId);
    if (!e) return;
    e.watcher?.close();
    this.#entries.delete(processId);
    this.#dirty.delete(processId);
    this.#firstUpTo.delete(processId);
    this.#partials.forget(processId, STREAMS);
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
    this.#dirty.set(processId, addToMask(this.#dirty.get(processId) ?? 0, streams, written));
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
    this.#partials.stop();
    this.#flushTimer = this.#pollTimer = null;
    for (const id of [...this.#entries.keys(), ...this.#early.keys()]) this.remove(id);
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
      let streams = wrote ? (wrote & WROTE_STDOUT ? STDOUT : 0) | (wrote & WROTE_STDERR ? STDERR : 0) : mask & BOTH;
      if (!wrote && streams === BOTH) {
        // No report names a stream (a start, the safety poll): read only what has changed now.
        // A stream written after this check has its report on the way, and read now it could
        // hold bytes written after the other stream's.
        const changed = (e.log.hasUnread("stdout") ? STDOUT : 0) | (e.log.hasUnread("stderr") ? STDERR : 0);
        if (changed === BOTH && !(mask & DEFERRED)) {
          // Both written and no report yet of which came first: the reports are on their way.
          // Read after the next I/O turn has delivered them (or without them, if none came).
          this.#dirty.set(id, (this.#dirty.get(id) ?? 0) | mask | DEFERRED);
          deferred = true;
          continue;
        }
        streams = changed;
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

  /** After reading a process's streams to their end: note each one's partial last line. */
  #notePartials(log: ProcLog, streams: number): void {
    if (streams & STDOUT) this.#partials.note(log, "stdout");
    if (streams & STDERR) this.#partials.note(log, "stderr");
  }

  #poll(): void {
    for (const [id, e] of this.#entries) {
      e.log.checkFiles();
      this.markDirty(id);
    }
  }
}
