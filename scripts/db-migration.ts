/**
 * `npm run db:migration -- <name> [--schema <file>] [--migrations-dir <dir>]`
 *
 * Offline replacement for `prisma migrate dev --create-only --name <name>` (which needs Prisma's
 * native schema engine, a download this machine cannot make). It asks the WebAssembly schema
 * engine for the SQL that takes the database from "all migrations in the folder applied" (replayed
 * in an in-memory shadow database) to `schema.prisma`, and writes it in Prisma's standard layout:
 *
 *   prisma/migrations/<YYYYMMDDHHMMSS (UTC)>_<name>/migration.sql
 *   prisma/migrations/migration_lock.toml   (provider = "sqlite", same text the Prisma CLI writes)
 *
 * When the schema matches the migrations it prints "no changes" and writes nothing.
 * Defaults: --schema prisma/schema.prisma, --migrations-dir prisma/migrations (of this repo).
 * Exit codes: 0 done or no changes, 1 engine/file error, 2 bad usage.
 *
 * Difference from `migrate dev`: the destructive-change warning block that Prisma puts at the top
 * of a migration needs a live database; we print a notice instead when the SQL drops something.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  LOCKFILE_NAME,
  MIGRATION_FILE_NAME,
  MIGRATIONS_DIR,
  SCHEMA_FILE,
  SQLITE_LOCKFILE_CONTENT,
  readMigrationsList,
  runSchemaEngine,
} from "../server/store/schema-engine";

const USAGE = "usage: npm run db:migration -- <name> [--schema <file>] [--migrations-dir <dir>]";

/**
 * Migration name as the Prisma CLI slugifies it: lower case, runs of anything but [a-z0-9]
 * become "_", at most 200 characters. Empty when nothing usable is left.
 */
export function slugifyMigrationName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 200);
}

/** UTC timestamp `YYYYMMDDHHMMSS`, the prefix Prisma gives migration folders. */
export function migrationTimestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { schema: { type: "string" }, "migrations-dir": { type: "string" } },
  });
  const name = slugifyMigrationName(positionals.join("_"));
  if (positionals.length === 0 || !name) {
    console.error(USAGE);
    return 2;
  }
  const schemaFile = path.resolve(values.schema ?? SCHEMA_FILE);
  const migrationsDir = path.resolve(values["migrations-dir"] ?? MIGRATIONS_DIR);

  const list = await readMigrationsList(migrationsDir);
  const schema = { path: path.basename(schemaFile), content: await readFile(schemaFile, "utf8") };
  const diff = await runSchemaEngine({
    op: "diff",
    // With no migration yet there is nothing to replay (and no lockfile to name the connector).
    migrationsList: list.migrationDirectories.length ? list : null,
    schema,
  });
  if (!diff.changed) {
    console.log("no changes");
    return 0;
  }

  const dirName = `${migrationTimestamp(new Date())}_${name}`;
  const last = list.migrationDirectories.at(-1)?.path;
  if (last && dirName.localeCompare(last) <= 0) {
    // Migrations apply in name order; a folder sorting before the newest one would apply out of order.
    throw new Error(`new migration ${dirName} would sort before the latest ${last}; wait a second or check the clock`);
  }
  const dir = path.join(migrationsDir, dirName);
  if (existsSync(dir)) throw new Error(`the migration directory already exists at ${dir}`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, MIGRATION_FILE_NAME), diff.script, "utf8");
  await writeFile(path.join(migrationsDir, LOCKFILE_NAME), SQLITE_LOCKFILE_CONTENT, "utf8");

  console.log(`created ${path.relative(process.cwd(), path.join(dir, MIGRATION_FILE_NAME))}`);
  if (/\bDROP\b|RedefineTables/.test(diff.script)) {
    console.log("notice: this migration drops or rebuilds tables; review it for data loss before committing.");
  }
  return 0;
}

// Run only as a program, so tests can import the helpers above.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
