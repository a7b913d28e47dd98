/**
 * Compaction of an agent's chatter into `worker.activity` / `worker.usage` / `warning` events,
 * so a chatty agent does not flood the event log (every event is a database row and a socket
 * message to every board):
 * - tool calls: one event each, at most one per `activityIntervalMs` (default 500 ms); the ones
 *   left out are counted in the next event's `skipped`;
 * - failed tool results and the final message: always;
 * - model messages in between and successful tool results: never (they stay in the log file);
 * - usage: persisted on the Worker row at every report, an event at most every
 *   `usageIntervalMs` (default 2000 ms) plus the last one at the end;
 * - warnings: the first `maxWarnings` (default 20) of a run, then one count at the end.
 * Pure bookkeeping: the caller appends the events this decides.
 */
import { clip } from "../engines/engine-events";

/** Longest `detail` of an activity event (characters). */
export const MAX_ACTIVITY_DETAIL = 240;

export interface ThrottleOptions {
  activityIntervalMs: number;
  usageIntervalMs: number;
  maxWarnings: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { activityIntervalMs: 500, usageIntervalMs: 2000, maxWarnings: 20 };

/** Per-run throttle state. `now` is ms since the epoch (injected for tests). */
export class ActivityThrottle {
  #activityAt = -Infinity;
  #skipped = 0;
  #usageAt = -Infinity;
  #usageDirty = false;
  #warnings = 0;
  #suppressed = 0;

  constructor(private readonly opts: ThrottleOptions = DEFAULT_THROTTLE) {}

  /** Whether to emit a tool_use activity now; returns the count to report as `skipped`, or null to skip it. */
  toolUse(now: number): number | null {
    if (now - this.#activityAt < this.opts.activityIntervalMs) {
      this.#skipped++;
      return null;
    }
    return this.#take(now);
  }

  /** For activities that are always emitted: the `skipped` count to report with them. */
  forced(now: number): number {
    return this.#take(now);
  }

  #take(now: number): number {
    const skipped = this.#skipped;
    this.#skipped = 0;
    this.#activityAt = now;
    return skipped;
  }

  /** A usage report arrived: emit an event now? (Otherwise it is emitted by {@link flushUsage}.) */
  usage(now: number): boolean {
    if (now - this.#usageAt < this.opts.usageIntervalMs) {
      this.#usageDirty = true;
      return false;
    }
    this.#usageAt = now;
    this.#usageDirty = false;
    return true;
  }

  /** At the end of the run: whether a usage report is still unsent. */
  flushUsage(): boolean {
    const dirty = this.#usageDirty;
    this.#usageDirty = false;
    return dirty;
  }

  /** A warning arrived: record it as an event? */
  warning(): boolean {
    if (this.#warnings < this.opts.maxWarnings) {
      this.#warnings++;
      return true;
    }
    this.#suppressed++;
    return false;
  }

  /** At the end of the run: how many warnings were not recorded. */
  flushWarnings(): number {
    const n = this.#suppressed;
    this.#suppressed = 0;
    return n;
  }
}

/**
 * One short line for a tool call: the command, path, pattern or argv the agent passed, else
 * its JSON input; at most {@link MAX_ACTIVITY_DETAIL} characters.
 */
export function describeToolUse(input: unknown): string {
  if (!input || typeof input !== "object") return "";
  const i = input as Record<string, unknown>;
  for (const key of ["command", "cmd", "file_path", "path", "notebook_path", "pattern", "query", "url"]) {
    if (typeof i[key] === "string") return clip(oneLine(i[key] as string), MAX_ACTIVITY_DETAIL);
  }
  if (Array.isArray(i.argv)) return clip(oneLine(i.argv.map(String).join(" ")), MAX_ACTIVITY_DETAIL);
  if (Array.isArray(i.changes)) {
    const paths = i.changes.map((c) => (c && typeof c === "object" ? String((c as Record<string, unknown>).path ?? "") : "")).filter(Boolean);
    return clip(paths.join(", "), MAX_ACTIVITY_DETAIL);
  }
  return clip(oneLine(JSON.stringify(i)), MAX_ACTIVITY_DETAIL);
}

/** Collapse whitespace runs (newlines included) to one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
