/**
 * Which failures mean that storage refused a write for a reason that will pass, as opposed to a
 * fault: the disk is full, or the database is busy. Shared by the runtime (which keeps what it
 * could not write and retries) and the route handlers (which answer 503 instead of 500), and
 * pure so both bundles get it.
 *
 * Recognised shapes (SQLite result codes: https://www.sqlite.org/rescode.html):
 * - Node's file-system errors: `err.code` `ENOSPC` (no space), `EDQUOT` (quota exhausted);
 * - better-sqlite3: `err.code` `SQLITE_FULL`, `SQLITE_BUSY`, `SQLITE_LOCKED` and their extended
 *   codes (`SQLITE_BUSY_SNAPSHOT`, …);
 * - Prisma 7 over a driver adapter: `err.meta.driverAdapterError.cause.originalCode` carries the
 *   driver's code (P2010 "Raw query failed. Code: `SQLITE_BUSY`" for raw SQL), and the message
 *   names it as `` Code: `SQLITE_FULL` ``.
 *
 * Only these say "full": a timeout, a lock or any other error is never taken for a full disk.
 */

/** `disk_full`: no space (ENOSPC, EDQUOT, SQLITE_FULL). `busy`: the database stayed locked by another connection past its busy timeout (SQLITE_BUSY / SQLITE_LOCKED). */
export type StorageFailure = "disk_full" | "busy";

/** The driver-level codes an error carries, outermost first (Node errno, SQLite code, Prisma's adapter cause, the code named in Prisma's message). */
function codesOf(err: unknown): string[] {
  if (typeof err !== "object" || err === null) return [];
  const e = err as { code?: unknown; message?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } }; cause?: unknown };
  const codes: string[] = [];
  if (typeof e.code === "string") codes.push(e.code);
  const original = e.meta?.driverAdapterError?.cause?.originalCode;
  if (typeof original === "string") codes.push(original);
  if (typeof e.message === "string") {
    const named = /Code: `(SQLITE_[A-Z_]+)`/.exec(e.message);
    if (named) codes.push(named[1]!);
  }
  if (e.cause && e.cause !== err) codes.push(...codesOf(e.cause));
  return codes;
}

/**
 * What kind of storage refusal `err` is, or null when it is none (a fault, or a client's error).
 * @param err anything thrown
 */
export function storageFailureOf(err: unknown): StorageFailure | null {
  const codes = codesOf(err);
  if (codes.some((c) => c === "ENOSPC" || c === "EDQUOT" || c === "SQLITE_FULL")) return "disk_full";
  if (codes.some((c) => /^SQLITE_(BUSY|LOCKED)(_|$)/.test(c))) return "busy";
  return null;
}
