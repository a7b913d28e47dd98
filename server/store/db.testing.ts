/**
 * Test helper: a real SQLite database in a fresh temp data dir, opened and closed by the calling
 * file's vitest hooks. For tests of SQLite's own behaviour (a lock held by a second connection,
 * `max_page_count`, SQLITE_FULL), which therefore open SQLite in the PostgreSQL run of the suite
 * too; {@link lockDatabase} and {@link capDatabasePages} bring those conditions about. Not
 * imported by runtime code.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { closeDatabase, databaseFile, openDatabase, type Db } from "./db";

/** The current test's data dir and database; both throw outside a test or hook of the file. */
export interface DatabaseHandle {
  readonly dir: string;
  readonly db: Db;
}

function databaseWith(before: typeof beforeEach, after: typeof afterEach, prefix: string): DatabaseHandle {
  let current: { dir: string; db: Db } | null = null;
  const get = () => {
    if (!current) throw new Error("the test database is not open (use it inside a test or hook)");
    return current;
  };
  before(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    current = { dir, db: await openDatabase(dir) };
  });
  after(async () => {
    if (!current) return;
    await closeDatabase(current.db);
    await rm(current.dir, { recursive: true, force: true });
    current = null;
  });
  return { get dir() { return get().dir; }, get db() { return get().db; } };
}

/** A fresh database for every test of the calling file (beforeEach/afterEach), removed after it. */
export function databasePerTest(prefix = "laneboard-db-"): DatabaseHandle {
  return databaseWith(beforeEach, afterEach, prefix);
}

/** One database shared by all tests of the calling file (beforeAll/afterAll), removed after them. */
export function databasePerFile(prefix = "laneboard-db-"): DatabaseHandle {
  return databaseWith(beforeAll, afterAll, prefix);
}

/**
 * Hold the write lock of the SQLite database in `dataDir` from a second connection, as another
 * writer would (`BEGIN IMMEDIATE`): writes through the first wait out the busy timeout and fail.
 * @returns releases the lock and closes that connection
 */
export function lockDatabase(dataDir: string): () => void {
  const other = new Database(databaseFile(dataDir));
  other.exec("BEGIN IMMEDIATE");
  return () => {
    other.exec("ROLLBACK");
    other.close();
  };
}

/**
 * Let the database grow by `extraPages` pages at most (SQLite's `max_page_count`), so a write that
 * needs more fails with SQLITE_FULL as on a full disk; `null` lifts the cap again.
 */
export async function capDatabasePages(db: Db, extraPages: number | null): Promise<void> {
  if (extraPages === null) return void (await db.$executeRawUnsafe("PRAGMA max_page_count = 1073741823"));
  const [{ page_count } = { page_count: 0n }] = await db.$queryRawUnsafe<{ page_count: bigint }[]>("PRAGMA page_count");
  await db.$executeRawUnsafe(`PRAGMA max_page_count = ${Number(page_count) + extraPages}`);
}
