/**
 * The browser's copy of a lane's output: lines from the REST history, the subscribe ack's tail
 * and live `process:output` batches overlap, so lines are deduplicated by
 * (processId, stream, offset) — the identity the server gives a line — and kept in the order of
 * lib/log-order.ts (one process's stdout and stderr by run, processes by read time). Markers
 * (e.g. "N lines dropped") sit between lines, by time.
 *
 * Memory is bounded: beyond `maxEntries` the oldest entries are dropped and counted in `trimmed`.
 */
import type { LogLine } from "@/lib/api";
import { compareLogLines } from "@/lib/log-order";

export type LogEntry =
  | { kind: "line"; key: string; ts: number; line: LogLine }
  /** A partial last line on show (see {@link ShownPartials}): not kept, not counted. */
  | { kind: "partial"; key: string; ts: number; line: LogLine }
  | { kind: "marker"; key: string; ts: number; text: string; gap?: LogGap };

/** Output left out of the view on purpose (a view limit): where it is, so the person can load it. */
export interface LogGap {
  processId: string;
  stream: LogLine["stream"];
  /** Logical byte range `[from, to)` not held. */
  from: number;
  to: number;
}

/** The dedupe identity of a line. */
export const logLineKey = (l: Pick<LogLine, "processId" | "stream" | "offset">) => `${l.processId}:${l.stream}:${l.offset}`;

function before(a: LogEntry, b: LogEntry): boolean {
  if (a.kind === "line" && b.kind === "line") return compareLogLines(a.line, b.line) < 0;
  // A marker stays where it arrived among lines of the same time (stable).
  return a.ts < b.ts;
}

export class LogBuffer {
  #entries: LogEntry[] = [];
  #keys = new Set<string>();
  #markers = 0;
  /** Entries dropped from the head to respect `maxEntries`. */
  trimmed = 0;

  constructor(public maxEntries = 20_000) {}

  /**
   * Add output read back from before what is held ("load earlier", a resumed gap): merged in one
   * pass instead of one backwards scan per line, and never refused as already trimmed. With
   * `grow` (the person asked for it: "load earlier", a gap's Load) room is made for it:
   * `maxEntries` grows by what was added; without it (a resume after a reconnect) the oldest
   * entries make room, as for live lines.
   * @returns how many lines were new.
   */
  addEarlier(lines: readonly LogLine[], { grow = true }: { grow?: boolean } = {}): number {
    const fresh: LogEntry[] = [];
    for (const line of lines) {
      const key = logLineKey(line);
      if (this.#keys.has(key)) continue;
      this.#keys.add(key);
      fresh.push({ kind: "line", key, ts: line.ts, line });
    }
    if (fresh.length === 0) return 0;
    fresh.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    const merged: LogEntry[] = [];
    let i = 0;
    let j = 0;
    const old = this.#entries;
    while (i < old.length || j < fresh.length) {
      if (j >= fresh.length || (i < old.length && !before(fresh[j]!, old[i]!))) merged.push(old[i++]!);
      else merged.push(fresh[j++]!);
    }
    this.#entries = merged;
    if (grow) this.maxEntries += fresh.length;
    else this.#trim();
    return fresh.length;
  }

  /**
   * Put a marker right after the line with this identity; `null`: before everything held (output
   * missing before the oldest line); at the end when the line is not held.
   */
  addMarkerAfter(lineKey: string | null, text: string, extra?: { gap?: LogGap }): string {
    const at = lineKey === null ? -1 : this.#entries.findIndex((e) => e.key === lineKey);
    const ref = lineKey === null ? this.#entries[0] : at >= 0 ? this.#entries[at]! : this.#entries[this.#entries.length - 1];
    const key = `marker:${++this.#markers}`;
    const entry: LogEntry = { kind: "marker", key, ts: ref?.ts ?? 0, text, ...(extra?.gap ? { gap: extra.gap } : {}) };
    if (lineKey === null) this.#entries.unshift(entry);
    else if (at >= 0) this.#entries.splice(at + 1, 0, entry);
    else this.#entries.push(entry);
    return key;
  }

  /** Remove a marker (a gap that was loaded). */
  removeMarker(key: string): void {
    const i = this.#entries.findIndex((e) => e.key === key);
    if (i >= 0 && this.#entries[i]!.kind === "marker") this.#entries.splice(i, 1);
  }

  /**
   * Add lines, skipping ones already held. Lines older than the newest held line are inserted
   * in place (history arriving after live lines).
   * @returns how many lines were new.
   */
  add(lines: readonly LogLine[]): number {
    let added = 0;
    for (const line of lines) {
      const key = logLineKey(line);
      if (this.#keys.has(key)) continue;
      if (!this.#insert({ kind: "line", key, ts: line.ts, line })) continue;
      this.#keys.add(key);
      added++;
    }
    if (added > 0) this.#trim();
    return added;
  }

  /** Add a marker after the newest entry (its time is that entry's, so it stays where it arrived). */
  addMarker(text: string): void {
    const last = this.#entries[this.#entries.length - 1];
    this.#entries.push({ kind: "marker", key: `marker:${++this.#markers}`, ts: last?.ts ?? 0, text });
    this.#trim();
  }

  /** A fresh array of the entries, oldest first (safe to hand to React). */
  snapshot(): LogEntry[] {
    return this.#entries.slice();
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Whether the line with this identity is held. */
  hasLine(l: Pick<LogLine, "processId" | "stream" | "offset">): boolean {
    return this.#keys.has(logLineKey(l));
  }

  /** @returns false when the entry is older than everything kept after trimming (it was trimmed already). */
  #insert(entry: LogEntry): boolean {
    const entries = this.#entries;
    let i = entries.length;
    // Common case: appending in order, so scan back from the end (usually zero steps).
    while (i > 0 && before(entry, entries[i - 1]!)) i--;
    if (i === 0 && this.trimmed > 0 && entries.length > 0) return false;
    if (i === entries.length) entries.push(entry);
    else entries.splice(i, 0, entry);
    return true;
  }

  #trim(): void {
    const excess = this.#entries.length - this.maxEntries;
    if (excess <= 0) return;
    for (const e of this.#entries.splice(0, excess)) {
      if (e.kind === "line") this.#keys.delete(e.key);
    }
    this.trimmed += excess;
  }
}

/** A `process:partial` as received: the partial last line of one process stream. */
export interface PartialLineInfo {
  processId: string;
  stream: LogLine["stream"];
  offset: number;
  text: string;
}

/**
 * The partial last lines on show, one per process stream (a newer one replaces the older): a
 * line of that stream starting at or after a partial's offset completes it, and it goes.
 */
export class ShownPartials {
  #byStream = new Map<string, { kind: "partial"; key: string; ts: number; line: LogLine }>();

  /** Show a partial line (received at `ts`). */
  set(p: PartialLineInfo, ts: number): void {
    const key = `partial:${p.processId}:${p.stream}`;
    // Not kept among the lines (shown after them), so it needs no run: -1.
    this.#byStream.set(key, { kind: "partial", key, ts, line: { processId: p.processId, stream: p.stream, offset: p.offset, seq: -1, ts, text: p.text } });
  }

  /** Lines arrived: drop the partials they complete. @returns whether any was dropped. */
  complete(lines: readonly LogLine[]): boolean {
    if (this.#byStream.size === 0) return false;
    let changed = false;
    for (const l of lines) {
      const key = `partial:${l.processId}:${l.stream}`;
      const shown = this.#byStream.get(key);
      if (shown && l.offset >= shown.line.offset) changed = this.#byStream.delete(key) || changed;
    }
    return changed;
  }

  /** The partials on show, oldest first (to follow the kept lines). */
  entries(): LogEntry[] {
    return [...this.#byStream.values()].sort((a, b) => a.ts - b.ts);
  }
}
