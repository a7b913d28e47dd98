/**
 * Apply pending migrations from `prisma/postgresql/migrations` to a PostgreSQL database at boot,
 * offline: the same WebAssembly schema engine and the same checks as migrate.ts, over the
 * `@prisma/adapter-pg` driver adapter.
 *
 * Several nodes may boot at once against one database, so the check and the apply run under a
 * session advisory lock ({@link MIGRATE_LOCK}): the first node migrates, the others wait, then
 * find nothing to do. A node whose code is older than the database's schema is refused
 * ({@link assertKnownMigrations}) before anything is written.
 */
import type pg from "pg";
import { dialectPaths } from "./dialect-schema";
import { assertKnownMigrations, isUpToDate, withFailedNamed, type ApplyMigrationsOptions, type MigrationRow } from "./migrate";
import { connectClient, redactUrl } from "./postgres";
import { readMigrationsList, runSchemaEngine } from "./schema-engine";

/** Advisory lock key pair (classid, objid) held while a node checks and applies migrations: "LBMG", 1. */
export const MIGRATE_LOCK = [0x4c424d47, 1] as const;

/**
 * Apply every migration of the folder that the database has not recorded yet, in name order.
 * @param url `postgresql://` URL of an existing database
 * @returns the names of the migration folders applied now (empty when up to date)
 * @throws AppError("unavailable") when the server cannot be reached; AppError("conflict") when
 *   the database is newer than this code; AppError("internal") when a migration fails (named).
 */
export async function applyPostgresMigrations(url: string, options: ApplyMigrationsOptions = {}): Promise<{ applied: string[] }> {
  const list = await readMigrationsList(options.migrationsDir ?? dialectPaths("postgresql").migrations);
  const client = await connectClient(url, { applicationName: "laneboard-migrate" });
  try {
    await client.query("SELECT pg_advisory_lock($1, $2)", [...MIGRATE_LOCK]);
    const rows = await readMigrationRows(client);
    assertKnownMigrations(rows, list, redactUrl(url));
    if (isUpToDate(rows, list)) return { applied: [] };
    return await withFailedNamed(runSchemaEngine({ op: "apply", provider: "postgresql", url, migrationsList: list }), () => readMigrationRows(client));
  } finally {
    // Ending the session releases the advisory lock.
    await client.end().catch(() => undefined);
  }
}

/** Rows of `_prisma_migrations` (in the connection's search path), or null when the table does not exist. */
export async function readMigrationRows(client: pg.Client): Promise<MigrationRow[] | null> {
  const { rows: exists } = await client.query<{ t: string | null }>(`SELECT to_regclass('"_prisma_migrations"')::text AS t`);
  if (!exists[0]?.t) return null;
  const { rows } = await client.query<MigrationRow>(
    `SELECT migration_name, checksum, finished_at::text AS finished_at, rolled_back_at::text AS rolled_back_at FROM "_prisma_migrations"`,
  );
  return rows;
}
