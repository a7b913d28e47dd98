/**
 * `npm run db:migration -- <name> [--schema <file>] [--migrations-dir <dir>]
 *   [--postgres-migrations-dir <dir>] [--shadow-database-url <postgresql://…>]`
 *
 * Offline replacement for `prisma migrate dev --create-only --name <name>` (which needs Prisma's
 * native schema engine, a download this machine cannot make), for both databases at once. For
 * each dialect it asks the WebAssembly schema engine for the SQL that takes the database from
 * "all migrations in the folder applied" (replayed in a shadow database) to the schema, and
 * writes it in Prisma's standard layout under the same folder name:
 *
 *   prisma/migrations/<YYYYMMDDHHMMSS (UTC)>_<name>/migration.sql              (SQLite)
 *   prisma/postgresql/migrations/<YYYYMMDDHHMMSS (UTC)>_<name>/migration.sql   (PostgreSQL)
 *   migration_lock.toml in each (the same text the Prisma CLI writes)
 *
 * The PostgreSQL schema is derived from the SQLite one (server/store/dialect-schema.ts), so there
 * is one source of the models. When one dialect has nothing to change, its migration.sql says so
 * in a comment: both folders keep the same list of names, and the latest name is the schema
 * version nodes compare. SQLite migrations that have no PostgreSQL twin yet (added by hand or by an
 * older version of this script) get theirs instead of a new migration: the PostgreSQL diff up to
 * the schema goes under the newest missing name (hand-written SQL such as triggers must be ported
 * by hand: the script names such migrations).
 *
 * PostgreSQL replays into a shadow database on `--shadow-database-url` (or
 * `LANEBOARD_SHADOW_DATABASE_URL`); without one, the script starts a throwaway server from
 * Debian's `postgresql` package for the run (scripts/lib/throwaway-postgres.ts).
 *
 * When neither schema changes it prints "no changes" and writes nothing.
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
import { dialectPaths, postgresSchema, type Provider } from "../server/store/dialect-schema";
import { LOCKFILE_NAME, MIGRATION_FILE_NAME, lockfileContent, readMigrationsList, runSchemaEngine, type MigrationList } from "../server/store/schema-engine";
import { startThrowawayPostgres, type ThrowawayPostgres } from "./lib/throwaway-postgres";

const USAGE =
  "usage: npm run db:migration -- <name> [--schema <file>] [--migrations-dir <dir>] [--postgres-migrations-dir <dir>] [--shadow-database-url <url>]";

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

/** Names of the SQLite migrations after the last one both folders share (those lacking a PostgreSQL twin). */
export function missingTwins(sqliteNames: string[], postgresNames: string[]): string[] {
  const pg = new Set(postgresNames);
  const extra = postgresNames.filter((n) => !sqliteNames.includes(n));
  if (extra.length) throw new Error(`PostgreSQL migrations without a SQLite twin: ${extra.join(", ")}; the two folders must list the same names`);
  return sqliteNames.filter((n) => !pg.has(n));
}

/** SQL written for a dialect the change does not touch: a valid, empty migration. */
const noChange = (provider: Provider) => `-- No change for ${provider === "sqlite" ? "SQLite" : "PostgreSQL"}: this migration keeps both folders' names in step.\n`;

const names = (list: MigrationList) => list.migrationDirectories.map((d) => d.path);

async function writeMigration(dir: string, provider: Provider, name: string, sql: string): Promise<string> {
  const folder = path.join(dir, name);
  if (existsSync(folder)) throw new Error(`the migration directory already exists at ${folder}`);
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, MIGRATION_FILE_NAME);
  await writeFile(file, sql, "utf8");
  await writeFile(path.join(dir, LOCKFILE_NAME), lockfileContent(provider), "utf8");
  return file;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      schema: { type: "string" },
      "migrations-dir": { type: "string" },
      "postgres-migrations-dir": { type: "string" },
      "shadow-database-url": { type: "string" },
    },
  });
  const name = slugifyMigrationName(positionals.join("_"));
  if (positionals.length === 0 || !name) {
    console.error(USAGE);
    return 2;
  }
  const schemaFile = path.resolve(values.schema ?? dialectPaths("sqlite").schema);
  const sqliteDir = path.resolve(values["migrations-dir"] ?? dialectPaths("sqlite").migrations);
  const pgDir = path.resolve(values["postgres-migrations-dir"] ?? dialectPaths("postgresql").migrations);
  const sqliteText = await readFile(schemaFile, "utf8");
  const pgPaths = dialectPaths("postgresql");
  const pgText = postgresSchema(sqliteText, { schemaFile: pgPaths.schema, clientDir: pgPaths.client });

  const [sqliteList, pgList] = await Promise.all([readMigrationsList(sqliteDir), readMigrationsList(pgDir)]);
  const missing = missingTwins(names(sqliteList), names(pgList));

  let server: ThrowawayPostgres | null = null;
  let shadowUrl = values["shadow-database-url"] ?? process.env.LANEBOARD_SHADOW_DATABASE_URL;
  try {
    if (!shadowUrl) {
      console.log("starting a throwaway PostgreSQL for the shadow database…");
      server = await startThrowawayPostgres();
      shadowUrl = server.url();
    }
    const [sqliteDiff, pgDiff] = await Promise.all([
      runSchemaEngine({ op: "diff", migrationsList: sqliteList.migrationDirectories.length ? sqliteList : null, schema: { path: path.basename(schemaFile), content: sqliteText } }),
      runSchemaEngine({ op: "diff", provider: "postgresql", shadowUrl, migrationsList: pgList.migrationDirectories.length ? pgList : null, schema: { path: "schema.prisma", content: pgText } }),
    ]);

    if (missing.length) {
      // Twins for SQLite migrations added without this script. Their PostgreSQL SQL is the diff up
      // to the schema, which is their state only while the schema matches the SQLite migrations.
      if (sqliteDiff.changed) {
        throw new Error(
          `the SQLite migrations ${missing.join(", ")} have no PostgreSQL twin, and the schema has changed since them: ` +
            "set the schema change aside, run this script once to write the twins, then again for the change",
        );
      }
      for (const [i, m] of missing.entries()) {
        const last = i === missing.length - 1;
        const file = await writeMigration(pgDir, "postgresql", m, last && pgDiff.changed ? pgDiff.script : noChange("postgresql"));
        console.log(`created ${path.relative(process.cwd(), file)} (twin of the SQLite migration ${m})`);
        const sqliteSql = sqliteList.migrationDirectories.find((d) => d.path === m)?.migrationFile.content;
        if (sqliteSql?.tag === "ok" && /\bCREATE\s+(TRIGGER|VIEW|FUNCTION)\b/i.test(sqliteSql.value)) {
          console.log(`notice: the SQLite migration ${m} has hand-written SQL (trigger, view or function): port it to ${path.relative(process.cwd(), file)}.`);
        }
      }
      return 0;
    }
    if (!sqliteDiff.changed && !pgDiff.changed) {
      console.log("no changes");
      return 0;
    }

    const dirName = `${migrationTimestamp(new Date())}_${name}`;
    const last = sqliteList.migrationDirectories.at(-1)?.path;
    if (last && dirName.localeCompare(last) <= 0) {
      // Migrations apply in name order; a folder sorting before the newest one would apply out of order.
      throw new Error(`new migration ${dirName} would sort before the latest ${last}; wait a second or check the clock`);
    }
    for (const [provider, dir, diff] of [["sqlite", sqliteDir, sqliteDiff], ["postgresql", pgDir, pgDiff]] as const) {
      const file = await writeMigration(dir, provider, dirName, diff.changed ? diff.script : noChange(provider));
      console.log(`created ${path.relative(process.cwd(), file)}`);
      if (diff.changed && /\bDROP\b|RedefineTables/.test(diff.script)) {
        console.log(`notice: the ${provider} migration drops or rebuilds tables; review it for data loss before committing.`);
      }
    }
    return 0;
  } finally {
    await server?.stop();
  }
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
