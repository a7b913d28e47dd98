/**
 * One source of the models, two databases. `prisma/schema.prisma` is written for SQLite (the
 * embedded default); the PostgreSQL schema is derived from it by {@link postgresSchema}, which
 * swaps the datasource provider and the client's output folder and changes nothing else. So the
 * models cannot drift apart: `npm run db:generate` writes the derived file
 * (`prisma/postgresql/schema.prisma`, not committed) and generates both clients, and
 * `npm run db:migration -- <name>` diffs each dialect's migrations against its schema.
 *
 * Paths of both dialects' schemas, migration folders and clients live here.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export type Provider = "sqlite" | "postgresql";

/** The repository root (this file is `<root>/server/store/dialect-schema.ts`). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface DialectPaths {
  /** The Prisma schema of this dialect. */
  schema: string;
  /** Its migrations in Prisma's layout (`<timestamp>_<name>/migration.sql`, migration_lock.toml). */
  migrations: string;
  /** Where its client is generated (gitignored). */
  client: string;
}

/** Files of each dialect under a repository root (default: this repository). */
export function dialectPaths(provider: Provider, root = REPO_ROOT): DialectPaths {
  if (provider === "sqlite") {
    return { schema: path.join(root, "prisma", "schema.prisma"), migrations: path.join(root, "prisma", "migrations"), client: path.join(root, "server", "store", "generated") };
  }
  return {
    schema: path.join(root, "prisma", "postgresql", "schema.prisma"),
    migrations: path.join(root, "prisma", "postgresql", "migrations"),
    client: path.join(root, "server", "store", "generated-pg"),
  };
}

const HEADER = "// GENERATED from prisma/schema.prisma by `npm run db:generate` (server/store/dialect-schema.ts): do not edit.\n";

/**
 * The PostgreSQL schema for a SQLite schema text: `provider = "sqlite"` in the `datasource`
 * block becomes `"postgresql"`, and the `generator client` block's `output` points at
 * `clientDir` (relative to `schemaFile`, as Prisma resolves it).
 * @throws Error when the text has no `datasource` block with `provider = "sqlite"` or no
 *   `generator client` block with an `output` (the derivation would silently do nothing).
 */
export function postgresSchema(sqliteSchema: string, opts: { schemaFile: string; clientDir: string }): string {
  let swapped = 0;
  let output = 0;
  const text = sqliteSchema
    .replace(/(datasource\s+\w+\s*\{[^}]*?provider\s*=\s*)"sqlite"/, (_m, head: string) => (swapped++, `${head}"postgresql"`))
    .replace(/(generator\s+client\s*\{[^}]*?output\s*=\s*)"[^"]*"/, (_m, head: string) => {
      output++;
      const rel = path.relative(path.dirname(opts.schemaFile), opts.clientDir).split(path.sep).join("/");
      return `${head}"${rel}"`;
    });
  if (!swapped) throw new Error('the schema has no datasource block with provider = "sqlite" to derive the PostgreSQL schema from');
  if (!output) throw new Error("the schema has no generator client block with an output folder");
  return HEADER + text;
}

/**
 * The schema version this code runs: the name of its newest migration folder (both dialects'
 * folders have the same names). An export names it; an import accepts only its own; nodes on one
 * database compare it (docs/scale-out.md).
 */
export function schemaVersion(provider: Provider = "sqlite", root = REPO_ROOT): string {
  const dirs = readdirSync(dialectPaths(provider, root).migrations, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  return dirs.sort().at(-1) ?? "none";
}
