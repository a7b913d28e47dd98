/**
 * Announcing partial last lines for the tailer (tailer.ts): a stream's output not ended by a
 * newline (a prompt, a progress bar) is not a line and is not published as one; once it has stayed
 * unchanged for `delayMs` it is announced, so a viewer can show it until the line is completed and
 * published. One that keeps growing (the same line redrawn with `\r`) is announced at most once a
 * second. While output flows each read ends in another line, so a flood announces none.
 */
import type { StreamName } from "./log-files";
import type { ProcLog } from "./proc-log";

/** A partial line that keeps growing (a progress bar) is announced at most this often (ms). */
const GROWING_PARTIAL_MS = 1000;

/** A partial last line seen at the end of a read. */
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

export class PartialLineAnnouncer {
  /** Partial last lines by `processId/stream`. */
  #partials = new Map<string, PartialCandidate>();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(
    private readonly delayMs: number,
    private readonly announce: (log: ProcLog, stream: StreamName, partial: { offset: number; data: Buffer }) => void,
  ) {}

  /** After reading a stream of a process to its end: remember its partial last line (or that it has none). */
  note(log: ProcLog, name: StreamName): void {
    const p = log.partial(name);
    // The common case on the hot path (output ending in a newline, nothing on show): no work.
    if (!p && this.#partials.size === 0) return;
    const key = `${log.processId}/${name}`;
    if (!p) {
      this.#partials.delete(key);
      return;
    }
    const now = performance.now();
    const end = p.offset + p.data.length;
    const c = this.#partials.get(key);
    if (c?.start === p.offset) {
      if (c.end === end) return;
      c.end = end;
      c.changedAt = now;
    } else this.#partials.set(key, { log, stream: name, start: p.offset, end, changedAt: now, shownAt: now, announcedEnd: -1 });
    if (!this.#stopped) this.#timer ??= setTimeout(() => this.#announceDue(), this.delayMs).unref();
  }

  /** Forget a process's partial lines. */
  forget(processId: string, streams: readonly StreamName[]): void {
    for (const name of streams) this.#partials.delete(`${processId}/${name}`);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Announce the partial lines due (unchanged for `delayMs`, or growing and not shown for a second); re-arm for the rest. */
  #announceDue(): void {
    this.#timer = null;
    if (this.#stopped) return;
    const now = performance.now();
    let next = Infinity;
    for (const c of this.#partials.values()) {
      if (c.announcedEnd === c.end) continue;
      const due = Math.min(c.changedAt + this.delayMs, c.shownAt + GROWING_PARTIAL_MS);
      if (due > now) {
        next = Math.min(next, due);
        continue;
      }
      c.announcedEnd = c.end;
      c.shownAt = now;
      const p = c.log.partial(c.stream);
      if (p && p.offset === c.start && p.offset + p.data.length === c.end) this.announce(c.log, c.stream, p);
    }
    if (next !== Infinity) this.#timer = setTimeout(() => this.#announceDue(), Math.max(1, next - now)).unref();
  }
}
