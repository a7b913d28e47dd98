/**
 * `npm run db:generate` (also run by `npm install` / `npm ci`): derive the PostgreSQL schema from
 * `prisma/schema.prisma` (server/store/dialect-schema.ts) into `prisma/postgresql/schema.prisma`,
 * then generate both Prisma clients (server/store/generated for SQLite, generated-pg for
 * PostgreSQL).
 *
 * `PRISMA_SCHEMA_ENGINE_BINARY=/bin/false`: `prisma generate` does not need the native schema
 * engine in Prisma 7, but the CLI would try to download it first, which fails offline.
 * Exit code: 0, or the failing `prisma generate`'s.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { REPO_ROOT, dialectPaths, postgresSchema } from "../server/store/dialect-schema";

async function main(): Promise<number> {
  const sqlite = dialectPaths("sqlite");
  const pg = dialectPaths("postgresql");
  const derived = postgresSchema(await readFile(sqlite.schema, "utf8"), { schemaFile: pg.schema, clientDir: pg.client });
  await mkdir(path.dirname(pg.schema), { recursive: true });
  await writeFile(pg.schema, derived);
  const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? "/bin/false", PRISMA_HIDE_UPDATE_MESSAGE: "1" };
  for (const schema of [sqlite.schema, pg.schema]) {
    const run = await execa("npx", ["--no-install", "prisma", "generate", "--schema", schema], { cwd: REPO_ROOT, env, reject: false, stdio: "inherit" });
    if (run.exitCode !== 0) return run.exitCode ?? 1;
  }
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
