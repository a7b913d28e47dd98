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
 * Assumes one process migrates a given file at a time (one server per data dir). PostgreSQL, where
 * several nodes may boot together: migrate-postgres.ts.
 *
 * Both refuse a database that records migrations this code does not have
 * ({@link assertKnownMigrations}): it was migrated by a newer Laneboard, and an older one must
 * not run against a schema it was not written for.
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
 *   error P3009) or the engine cannot start; AppError("conflict") when the database is newer
 *   than this code ({@link assertKnownMigrations}).
 */
export async function applyMigrations(dbFile: string, options: ApplyMigrationsOptions = {}): Promise<{ applied: string[] }> {
  const list = await readMigrationsList(options.migrationsDir ?? MIGRATIONS_DIR);
  const rows = readMigrationRows(dbFile);
  assertKnownMigrations(rows, list, dbFile);
  if (isUpToDate(rows, list)) return { applied: [] };
  return withFailedNamed(runSchemaEngine({ op: "apply", url: `file:${dbFile}`, migrationsList: list }), async () => readMigrationRows(dbFile));
}

/**
 * The engine's message names the SQL error but not the migration; `_prisma_migrations` does:
 * rethrow a failure of `applying` with the failed migrations' names added.
 */
export async function withFailedNamed<T>(applying: Promise<T>, rowsAfter: () => Promise<MigrationRow[] | null>): Promise<T> {
  try {
    return await applying;
  } catch (err) {
    const failed = ((await rowsAfter().catch(() => null)) ?? []).filter(isFailed).map((r) => r.migration_name);
    if (!isAppError(err) || failed.length === 0) throw err;
    throw new AppError(err.code, `${err.message} (failed migration: ${failed.join(", ")})`, { ...err.details, failed });
  }
}

/** A row of Prisma's `_prisma_migrations` (the columns we read). */
export interface MigrationRow {
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
export function isFailed(row: MigrationRow): boolean {
  return row.finished_at === null && row.rolled_back_at === null;
}

/**
 * True only when the engine would certainly have nothing to do: `_prisma_migrations` exists,
 * no migration is failed, and every local migration is recorded as finished and not rolled back.
 * Warns (does not fail, like Prisma) when a local migration.sql no longer matches the checksum
 * recorded when it was applied.
 */
export function isUpToDate(rows: MigrationRow[] | null, list: MigrationList): boolean {
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

/**
 * Refuse a database migrated further than this code knows: some finished migration in
 * `_prisma_migrations` has no folder here. Nothing is written before this check.
 * @param where the database, for the message (a file path or a redacted URL)
 * @throws AppError("conflict") naming the unknown migrations (`details.unknownMigrations`)
 */
export function assertKnownMigrations(rows: MigrationRow[] | null, list: MigrationList, where: string): void {
  const local = new Set(list.migrationDirectories.map((d) => d.path));
  const unknown = (rows ?? []).filter((r) => r.finished_at !== null && r.rolled_back_at === null && !local.has(r.migration_name)).map((r) => r.migration_name);
  if (unknown.length === 0) return;
  unknown.sort();
  throw new AppError(
    "conflict",
    `schema version mismatch: the database ${where} has migrations this Laneboard does not know (${unknown.join(", ")}), applied by a newer version. ` +
      `This node is older than the database; upgrade it before starting it.`,
    { unknownMigrations: unknown, latestKnown: list.migrationDirectories.at(-1)?.path ?? null },
  );
}

/** The latest migration of a list (its name is the schema version), or null for none. */
export function schemaVersionOf(list: MigrationList): string | null {
  return list.migrationDirectories.at(-1)?.path ?? null;
}

/** The checksum Prisma stores in `_prisma_migrations.checksum`: SHA-256 of migration.sql, lower-case hex. */
export function migrationChecksum(sql: string): string {
  return createHash("sha256").update(sql, "utf8").digest("hex");
}
