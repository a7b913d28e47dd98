/**
 * Apply pending migrations from `prisma/migrations` to a SQLite file at boot, offline.
 *
 * The work is done by Prisma's own schema engine (WebAssembly build, in a child process; see
 * schema-engine.ts), calling the same `applyMigrations` that `prisma migrate deploy` calls. So
 * `_prisma_migrations` gets exactly Prisma's rows (id, checksum = SHA-256 hex of migration.sql,
 * started_at, finished_at, migration_name, applied_steps_count) and `prisma migrate deploy` /
 * `migrate status` on a machine with the native engine agree with what the server did.
 *
 * Fast path: starting the engine costs a few hundred ms, so when the database already records
 * every local migration as finished (and none as failed) we read `_prisma_migrations` directly
 * and skip the engine. Anything else (new file, pending or failed migration, unreadable
 * migration.sql) goes to the engine, which then applies or reports exactly as Prisma would.
 *
 * Assumes one process migrates a given file at a time (one server per data dir).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { AppError, isAppError } from "@/lib/errors";
import { MIGRATIONS_DIR, readMigrationsList, runSchemaEngine, type MigrationList } from "./schema-engine";

export interface ApplyMigrationsOptions {
  /** Folder holding `<timestamp>_<name>/migration.sql` and migration_lock.toml. Default: this repo's `prisma/migrations`. */
  migrationsDir?: string;
}

/**
 * Apply every migration of the folder that the database has not recorded yet, in name order.
 * Creates the database file if it does not exist (the caller creates its directory).
 * @param dbFile path of the SQLite database file
 * @returns the names of the migration folders applied now (empty when up to date)
 * @throws AppError("internal") when a migration fails (the engine records it as failed in
 *   `_prisma_migrations`, and later boots refuse to continue until it is resolved, as Prisma does:
 *   error P3009) or the engine cannot start.
 */
export async function applyMigrations(dbFile: string, options: ApplyMigrationsOptions = {}): Promise<{ applied: string[] }> {
  const list = await readMigrationsList(options.migrationsDir ?? MIGRATIONS_DIR);
  if (isUpToDate(readMigrationRows(dbFile), list)) return { applied: [] };
  try {
    return await runSchemaEngine({ op: "apply", url: `file:${dbFile}`, migrationsList: list });
  } catch (err) {
    // The engine's message names the SQL error but not the migration; the table does.
    const failed = (readMigrationRows(dbFile) ?? []).filter(isFailed).map((r) => r.migration_name);
    if (!isAppError(err) || failed.length === 0) throw err;
    throw new AppError(err.code, `${err.message} (failed migration: ${failed.join(", ")})`, { ...err.details, failed });
  }
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: string | null;
  rolled_back_at: string | null;
}

/** Rows of `_prisma_migrations`, or null when the file or the table does not exist. */
function readMigrationRows(dbFile: string): MigrationRow[] | null {
  if (!existsSync(dbFile)) return null;
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get();
    if (!table) return null;
    return db.prepare("SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations").all() as MigrationRow[];
  } finally {
    db.close();
  }
}

/** Failed or interrupted, and not marked rolled back: Prisma refuses to migrate past it (P3009). */
function isFailed(row: MigrationRow): boolean {
  return row.finished_at === null && row.rolled_back_at === null;
}

/**
 * True only when the engine would certainly have nothing to do: `_prisma_migrations` exists,
 * no migration is failed, and every local migration is recorded as finished and not rolled back.
 * Warns (does not fail, like Prisma) when a local migration.sql no longer matches the checksum
 * recorded when it was applied.
 */
function isUpToDate(rows: MigrationRow[] | null, list: MigrationList): boolean {
  if (!rows || rows.some(isFailed)) return false;
  const applied = new Map(rows.filter((r) => r.finished_at !== null && r.rolled_back_at === null).map((r) => [r.migration_name, r.checksum]));
  for (const dir of list.migrationDirectories) {
    const checksum = applied.get(dir.path);
    if (checksum === undefined || dir.migrationFile.content.tag !== "ok") return false;
    if (migrationChecksum(dir.migrationFile.content.value) !== checksum) {
      console.warn(`[store] migration ${dir.path} was edited after it was applied; the database keeps the old version`);
    }
  }
  return true;
}

/** The checksum Prisma stores in `_prisma_migrations.checksum`: SHA-256 of migration.sql, lower-case hex. */
export function migrationChecksum(sql: string): string {
  return createHash("sha256").update(sql, "utf8").digest("hex");
}
