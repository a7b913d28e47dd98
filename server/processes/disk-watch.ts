/**
 * Whether the disk holding Laneboard's data is full, as a condition with two edges (`disk.full`,
 * `disk.space_freed`) that no short episode slips through.
 *
 * Full: a watched directory's file system has less than {@link MIN_FREE_BYTES} available to
 * unprivileged writers (statfs `bavail`), or a write was just refused for lack of space (ENOSPC,
 * EDQUOT, SQLITE_FULL: lib/storage-errors.ts). The second catches an episode shorter than the
 * sampling period (a flooding command fills the disk, dies of it and its log is removed before the
 * next sample) and a quota that statfs does not show.
 *
 * Room again: every watched file system has at least the reserve free again *and* nothing the
 * server kept while full is still waiting to be written (`host.waiting()`: exits, events). So the
 * space-freed edge comes after what was kept has landed, and a quota that keeps refusing writes
 * while statfs shows room does not flap between the two.
 *
 * Sampled by whoever calls {@link DiskWatch.check} (the supervisor's retention tick, every check
 * for new work, and every process exit before it is announced); while full, also every `fullCheckMs` by itself, so the way back is seen
 * within that period and never waits for a slow tick.
 */
import { statfs } from "node:fs/promises";
import { storageFailureOf } from "@/lib/storage-errors";

/** Below this many free bytes the disk counts as full (1 MiB). */
export const MIN_FREE_BYTES = 1024 * 1024;

/** Free bytes (for unprivileged writers) on the file system holding `dir`; null if unknown. */
export async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

export interface DiskWatchHost {
  /** The condition changed; `freeBytes` is the least free space over the watched directories (0 when unknown). */
  onChange(full: boolean, freeBytes: number): void;
  /** True while something refused for lack of space is still kept to be written later. */
  waiting(): boolean;
}

export class DiskWatch {
  #full = false;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  /**
   * @param dirs directories whose file systems hold the data (they may be different mounts)
   * @param fullCheckMs how often, while full, to look for room again (ms)
   */
  constructor(
    private readonly dirs: string[],
    private readonly host: DiskWatchHost,
    private readonly fullCheckMs = 250,
  ) {}

  /** The condition as last seen. */
  get full(): boolean {
    return this.#full;
  }

  /** Sample the free space now and move the condition either way. Never throws. */
  check(): Promise<void> {
    return this.#serial(async () => {
      const free = await this.#leastFree();
      if (free === null) return;
      if (!this.#full && free < MIN_FREE_BYTES) this.#set(true, free);
      else if (this.#full && free >= MIN_FREE_BYTES && !this.host.waiting()) this.#set(false, free);
    });
  }

  /**
   * A write failed with `err`. If it failed for lack of space the disk is full now, whatever the
   * last sample said; any other error is not this class's business. Never throws.
   */
  refused(err: unknown): Promise<void> {
    if (storageFailureOf(err) !== "disk_full") return Promise.resolve();
    return this.#serial(async () => {
      if (!this.#full) this.#set(true, (await this.#leastFree()) ?? 0);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #set(full: boolean, free: number): void {
    if (this.#stopped) return;
    this.#full = full;
    this.host.onChange(full, free);
    if (full) this.#timer ??= setInterval(() => void this.check(), this.fullCheckMs).unref();
    else this.#stopTimer();
  }

  async #leastFree(): Promise<number | null> {
    const free = (await Promise.all(this.dirs.map(freeBytes))).filter((f): f is number => f !== null);
    return free.length ? Math.min(...free) : null;
  }

  /** Checks run one at a time, so two edges never interleave. */
  #serial(fn: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(fn).catch((err: unknown) => console.error("[disk] checking free space failed", err));
    this.#chain = run;
    return run;
  }
}
