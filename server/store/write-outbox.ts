/**
 * Database writes on their way in while storage refuses them for a reason that passes (a full
 * disk, a database locked past its busy timeout: lib/storage-errors.ts). The one place where
 * such a write is kept and tried again: the supervisor's events go through it (EventOutbox,
 * server/processes/event-outbox.ts), and so do the writes a lane must not lose once its worker
 * runs (server/lanes/lane-runner.ts).
 *
 * A write is tried at once when nothing is kept; otherwise, or when storage refuses it, it is kept
 * behind those kept before it and tried again every `retryMs` (or at once by
 * {@link WriteOutbox.flush}), oldest first, so writes land in the order they were handed in.
 * Retries run one at a time, so a kept write runs to success once, never twice.
 *
 * Two ways to hand a write in:
 * - {@link WriteOutbox.send}: fire and forget (an event). Never throws; a write refused for any
 *   other reason would be refused forever (a payload that does not match its schema), so it is
 *   logged and dropped and cannot hold back the writes after it.
 * - {@link WriteOutbox.until}: the caller awaits the write's result and gets any other error.
 */
import { storageFailureOf } from "@/lib/storage-errors";

/** Fire-and-forget writes kept in memory while storage refuses them; beyond this the oldest are dropped. */
export const MAX_KEPT_WRITES = 10_000;

interface Kept {
  /** What the write is, for the log ("process.exited event"). */
  what: string;
  write: () => Promise<unknown>;
  /** Set for {@link WriteOutbox.until}: the caller awaits the outcome. */
  waiter?: { landed: (value: unknown) => void; failed: (error: unknown) => void };
}

export interface WriteOutboxOptions {
  /** Told of each error storage refused a write with (first try and retries), so a full disk is noticed at once. */
  refused?: (error: unknown) => void;
  /** How often kept writes are tried again (ms). */
  retryMs?: number;
  /** Prefix of log lines, e.g. `[processes]`. */
  logPrefix?: string;
}

export class WriteOutbox {
  #kept: Kept[] = [];
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;
  readonly #refused: (error: unknown) => void;
  readonly #retryMs: number;
  readonly #prefix: string;

  constructor(opts: WriteOutboxOptions = {}) {
    this.#refused = opts.refused ?? (() => undefined);
    this.#retryMs = opts.retryMs ?? 500;
    this.#prefix = opts.logPrefix ?? "[store]";
  }

  /** Writes kept, not yet landed. */
  get waiting(): number {
    return this.#kept.length;
  }

  /**
   * Run `write` now, or keep it behind those already kept. Resolves once it landed, was kept or
   * was dropped (an error storage does not explain: logged). Never throws.
   * @param what names the write in log lines
   */
  async send(what: string, write: () => Promise<unknown>): Promise<void> {
    if (this.#idle()) {
      try {
        await write();
        return;
      } catch (err) {
        if (!this.#keepable(err)) return this.#drop(what, err);
        console.error(`${this.#prefix} cannot write ${what} yet; kept until it can be written`, (err as Error).message);
      }
    }
    this.#keep({ what, write });
  }

  /**
   * `write`'s result once storage takes it: tried now (or behind the writes already kept), then
   * every `retryMs` while storage refuses it.
   * @throws whatever else `write` throws (it is not tried again)
   */
  async until<T>(write: () => Promise<T>): Promise<T> {
    if (this.#idle()) {
      try {
        return await write();
      } catch (err) {
        if (!this.#keepable(err)) throw err;
      }
    }
    return new Promise<T>((landed, failed) => this.#keep({ what: "a write", write, waiter: { landed: landed as (v: unknown) => void, failed } }));
  }

  /** Run what is kept, oldest first, until storage refuses again. Concurrent calls share one run. Never throws. */
  flush(): Promise<void> {
    this.#flushing ??= (async () => {
      while (this.#kept.length > 0) {
        const head = this.#kept[0]!;
        try {
          const value = await head.write();
          head.waiter?.landed(value);
        } catch (err) {
          if (this.#keepable(err)) return; // still refused: next tick
          if (head.waiter) head.waiter.failed(err);
          else this.#drop(head.what, err);
        }
        this.#kept.shift();
      }
      this.stop();
    })().finally(() => (this.#flushing = null));
    return this.#flushing;
  }

  /** Stop the retry timer (kept writes stay kept; a later write or flush starts it again). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Nothing kept and no retry under way: a new write may go straight in without overtaking one. */
  #idle(): boolean {
    return this.#kept.length === 0 && this.#flushing === null;
  }

  #keep(item: Kept): void {
    this.#kept.push(item);
    if (this.#kept.length > MAX_KEPT_WRITES) {
      // Only a fire-and-forget write is dropped: an awaited one is bounded by the callers awaiting it.
      const oldest = this.#kept.findIndex((k) => !k.waiter);
      if (oldest >= 0) console.error(`${this.#prefix} dropped a kept ${this.#kept.splice(oldest, 1)[0]!.what} (more than ${MAX_KEPT_WRITES} waiting)`);
    }
    this.#timer ??= setInterval(() => void this.flush(), this.#retryMs).unref();
  }

  /** True when `err` is a passing storage refusal (keep the write). */
  #keepable(err: unknown): boolean {
    this.#refused(err);
    return storageFailureOf(err) !== null;
  }

  #drop(what: string, err: unknown): void {
    console.error(`${this.#prefix} dropped ${what}, which storage refuses for good`, err);
  }
}
