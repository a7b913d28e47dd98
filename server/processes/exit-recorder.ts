/**
 * Recording a process's end so that a full disk loses nothing already known. The exit is first
 * kept where it can still be written: the process directory's `exit` file (the wrapper writes it;
 * when the wrapper could not, because the disk was full, and its status is known from the OS, it
 * is written here), then settled into the database with the guarded row update. When the database
 * refuses, the exit is kept in memory and retried every `retryMs` until it lands, without a
 * restart; only then is it announced (`process.exited` / `process.lost`, bus `process.exit`), so
 * the lane is settled from a recorded exit. A server stopped before that finds the exit file at
 * its next start. The warning says why it was refused, as SQLite said it (lib/storage-errors.ts):
 * a full disk only for SQLITE_FULL / ENOSPC; a database locked by another connection past the
 * busy timeout (SQLITE_BUSY, which Prisma reports as a timeout) is "busy", never "full".
 */
import { writeFileSync } from "node:fs";
import { constants } from "node:os";
import type { ProcessExit } from "../events/event-bus";
import type { Db } from "../store/db";
import type { ProcState } from "./log-files";
import { recordExitRow } from "./process-rows";
import { readExitFile } from "./wrapper";
import { storageFailureOf } from "@/lib/storage-errors";
import { BUSY_TIMEOUT_MS } from "../store/db";

export interface PendingExit {
  exit: ProcessExit;
  endedAt: Date;
  state: ProcState;
  /** Why a `lost` process is lost. */
  lostReason: string | null;
}

export class ExitRecorder {
  #pending = new Map<string, PendingExit>();
  #timer: NodeJS.Timeout | null = null;
  #retrying: Promise<void> | null = null;

  /**
   * @param announce called once per exit, after its row was written by this recorder (not when
   *   another writer had already ended the row)
   * @param refused told of every error the database refused an exit with (first try and retries),
   *   so a full disk is noticed as soon as a write fails for it
   */
  constructor(
    private readonly db: Db,
    private readonly announce: (p: PendingExit) => Promise<void>,
    private readonly warn: (message: string) => void,
    private readonly refused: (error: unknown) => void = () => undefined,
    private readonly retryMs = 500,
  ) {}

  /** Exits known but not yet in the database. */
  get pending(): number {
    return this.#pending.size;
  }

  /** True while the exit of `processId` is kept, not yet written and announced (it leaves once both are done). */
  keeps(processId: string): boolean {
    return this.#pending.has(processId);
  }

  /**
   * Write the exit file when the wrapper left no status but the OS told us it (our own child), so
   * a later server knows it too: over the wrapper's placeholder in place when it reserved one
   * (wrapper.ts: no new block needed), else as a new file. Best effort: a new file may fail on a
   * full disk as the wrapper's did.
   */
  static keepExitFile(file: string, exit: Pick<ProcessExit, "exitCode" | "signal">): void {
    const signal = exit.signal ? (constants.signals as Record<string, number | undefined>)[exit.signal] : undefined;
    const code = exit.exitCode ?? (signal !== undefined ? 128 + signal : null);
    if (code === null) return;
    if (readExitFile(file)) return;
    for (const flag of ["r+", "wx"]) {
      try {
        writeFileSync(file, `${code}\n`, { flag });
        return;
      } catch {
        // r+: not reserved, so create it; wx: the disk is still full (the database row is the next place)
      }
    }
  }

  /** Record one exit now, or keep it and retry until the database takes it. Never throws. */
  async record(p: PendingExit): Promise<void> {
    const refused = await this.#try(p);
    if (refused === null) return;
    this.#pending.set(p.exit.processId, p);
    this.warn(`the exit of process ${p.exit.processId} (${p.exit.status}) cannot be recorded yet: ${why(refused)}; retrying every ${this.retryMs} ms`);
    this.#timer ??= setInterval(() => void this.#retry(), this.retryMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Null when the row was written (then announced) or was already final; else what the database threw, to keep it for later. */
  async #try(p: PendingExit): Promise<{ error: unknown } | null> {
    let won: boolean;
    try {
      won = await recordExitRow(this.db, p.exit.processId, p.exit, p.endedAt, p.state);
    } catch (error) {
      this.refused(error);
      return { error };
    }
    if (won) await this.announce(p);
    return null;
  }

  #retry(): Promise<void> {
    this.#retrying ??= (async () => {
      for (const [id, p] of this.#pending) {
        if (await this.#try(p)) break; // still refused: try again on the next tick
        this.#pending.delete(id);
      }
      if (this.#pending.size === 0) this.stop();
    })().finally(() => (this.#retrying = null));
    return this.#retrying;
  }
}

/** Why the database refused an exit, in words a person can act on. */
function why({ error }: { error: unknown }): string {
  switch (storageFailureOf(error)) {
    case "disk_full":
      return "the disk holding the database is full";
    case "busy":
      return `the database stayed locked by another connection for more than ${BUSY_TIMEOUT_MS} ms (SQLITE_BUSY)`;
    default:
      return `the database refused the write (${String((error as Error | null)?.message ?? error).trim().split("\n").at(-1)})`;
  }
}
