import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { dialectPaths } from "@/server/store/dialect-schema";
import { applyMigrations } from "@/server/store/migrate";
import { applyPostgresMigrations } from "@/server/store/migrate-postgres";
import { MIGRATIONS_DIR, REPO_ROOT, SCHEMA_FILE, SQLITE_LOCKFILE_CONTENT, lockfileContent } from "@/server/store/schema-engine";
import { createTestDatabase, testPostgresUrl } from "@/server/testing/test-database";
import { migrationTimestamp, missingTwins, slugifyMigrationName } from "./db-migration";
import { startThrowawayPostgres, type ThrowawayPostgres } from "./lib/throwaway-postgres";
import { onPostgres } from "@/server/testing/test-database";

const PG_MIGRATIONS_DIR = dialectPaths("postgresql").migrations;

const TSX = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
const SCRIPT = path.join(REPO_ROOT, "scripts", "db-migration.ts");

/** PostgreSQL server for the shadow databases: the test run's, else a throwaway one. */
let server: ThrowawayPostgres | null = null;
let adminUrl = "";

/** Run the script as `npm run db:migration` does (tsx, cwd = repo root), with our shadow server. */
function runScript(args: string[]) {
  return execa(TSX, [SCRIPT, "--shadow-database-url", adminUrl, ...args], { cwd: REPO_ROOT, reject: false });
}

async function listDirs(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

// It starts a PostgreSQL server of its own and opens no test database: the suite's PostgreSQL
// run would only repeat the SQLite run's work.
describe.skipIf(onPostgres())("db:migration", () => {
  let root: string;
  /**
   * Copies of both dialects' migration folders under `root` (`<prefix>migrations`,
   * `<prefix>pg-migrations`) and the path of a schema file beside them, for the script to change.
   */
  async function copyMigrations(schemaName: string, prefix: string) {
    const migrationsDir = path.join(root, `${prefix}migrations`);
    const pgMigrationsDir = path.join(root, `${prefix}pg-migrations`);
    await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
    await cp(PG_MIGRATIONS_DIR, pgMigrationsDir, { recursive: true });
    return { schemaFile: path.join(root, schemaName), migrationsDir, pgMigrationsDir };
  }
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "laneboard-dbmig-"));
    adminUrl = testPostgresUrl() ?? (server = await startThrowawayPostgres()).url();
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await server?.stop();
  });

  it("reports no changes for the committed schema in either dialect and writes nothing", async () => {
    const before = [await listDirs(MIGRATIONS_DIR), await listDirs(PG_MIGRATIONS_DIR)];
    const run = await runScript(["should_not_exist"]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toBe("no changes");
    expect([await listDirs(MIGRATIONS_DIR), await listDirs(PG_MIGRATIONS_DIR)]).toEqual(before);
  });

  it("keeps the same migration names for both dialects (the PostgreSQL folder covers every SQLite migration)", async () => {
    expect(await listDirs(PG_MIGRATIONS_DIR)).toEqual(await listDirs(MIGRATIONS_DIR));
    expect(await readFile(path.join(PG_MIGRATIONS_DIR, "migration_lock.toml"), "utf8")).toBe(lockfileContent("postgresql"));
  });

  it("writes the next migration for a schema change in a copy, for both dialects under one name", async () => {
    const { schemaFile, migrationsDir, pgMigrationsDir } = await copyMigrations("schema.prisma", "");
    const before = await listDirs(migrationsDir);
    const schema = (await readFile(SCHEMA_FILE, "utf8"))
      .replace(/(\n\s*mainBranch\s+String\n)/, '$1  color String?\n')
      .concat('\nmodel Tag {\n  id    Int    @id @default(autoincrement())\n  label String @unique\n}\n');
    expect(schema).toContain("color String?");
    await writeFile(schemaFile, schema);

    const dirs = ["--schema", schemaFile, "--migrations-dir", migrationsDir, "--postgres-migrations-dir", pgMigrationsDir];
    const run = await runScript(["Add tag", ...dirs]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);

    const after = await listDirs(migrationsDir);
    const added = after.filter((d) => !before.includes(d));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^\d{14}_add_tag$/);
    expect(after.at(-1)).toBe(added[0]); // sorts last, so it applies last
    expect(run.stdout).toContain(`${added[0]}/migration.sql`);

    const sql = await readFile(path.join(migrationsDir, added[0]!, "migration.sql"), "utf8");
    expect(sql).toContain('ALTER TABLE "Repo" ADD COLUMN "color" TEXT;');
    expect(sql).toMatch(/-- CreateTable\nCREATE TABLE "Tag" \(\n\s+"id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,/);
    expect(sql).toContain('CREATE UNIQUE INDEX "Tag_label_key" ON "Tag"("label");');
    expect(await readFile(path.join(migrationsDir, "migration_lock.toml"), "utf8")).toBe(SQLITE_LOCKFILE_CONTENT);

    // The new folder applies on top of the old ones, and the copy is now in sync.
    const dbFile = path.join(root, "check.db");
    expect((await applyMigrations(dbFile, { migrationsDir })).applied).toEqual(after);
    const db = new Database(dbFile, { readonly: true });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'Tag'").get()).toEqual({ name: "Tag" });
    db.close();

    expect(await listDirs(pgMigrationsDir)).toEqual(after);
    const pgSql = await readFile(path.join(pgMigrationsDir, added[0]!, "migration.sql"), "utf8");
    expect(pgSql).toContain('ALTER TABLE "Repo" ADD COLUMN     "color" TEXT;');
    expect(pgSql).toMatch(/-- CreateTable\nCREATE TABLE "Tag" \(\n\s+"id" SERIAL NOT NULL,/);
    expect(pgSql).toContain('CREATE UNIQUE INDEX "Tag_label_key" ON "Tag"("label");');
    const url = await createTestDatabase(adminUrl, `dbmig_${process.pid}_${Date.now()}`, null);
    expect((await applyPostgresMigrations(url, { migrationsDir: pgMigrationsDir })).applied).toEqual(after);
    const client = new pg.Client(url);
    await client.connect();
    expect((await client.query(`SELECT to_regclass('"Tag"')::text AS t`)).rows).toEqual([{ t: '"Tag"' }]);
    await client.end();

    const again = await runScript(["again", ...dirs]);
    expect(again.stdout.trim()).toBe("no changes");
  });

  it("writes the PostgreSQL twin of a SQLite migration added without the script, under its name", async () => {
    const { schemaFile, migrationsDir, pgMigrationsDir } = await copyMigrations("schema-twin.prisma", "twin-");
    // A SQLite-only migration, as an older script (or a hand) would have left it, with its schema change.
    await writeFile(schemaFile, (await readFile(SCHEMA_FILE, "utf8")).replace(/(\n\s*mainBranch\s+String\n)/, "$1  label String?\n"));
    const name = "29990101000000_repo_label";
    await mkdir(path.join(migrationsDir, name));
    await writeFile(path.join(migrationsDir, name, "migration.sql"), 'ALTER TABLE "Repo" ADD COLUMN "label" TEXT;\n');

    const run = await runScript(["anything", "--schema", schemaFile, "--migrations-dir", migrationsDir, "--postgres-migrations-dir", pgMigrationsDir]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`twin of the SQLite migration ${name}`);
    expect(await listDirs(pgMigrationsDir)).toEqual(await listDirs(migrationsDir));
    expect(await readFile(path.join(pgMigrationsDir, name, "migration.sql"), "utf8")).toContain('ALTER TABLE "Repo" ADD COLUMN     "label" TEXT;');
  });

  it("refuses a missing or empty name", async () => {
    const run = await runScript(["--", "!!!"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("usage:");
  });
});

describe("db:migration helpers", () => {
  it("slugifies names like the Prisma CLI", () => {
    expect(slugifyMigrationName("Add tag")).toBe("add_tag");
    expect(slugifyMigrationName("  lane--events: v2 ")).toBe("lane_events_v2");
    expect(slugifyMigrationName("!!!")).toBe("");
    expect(slugifyMigrationName("x".repeat(300))).toHaveLength(200);
  });

  it("names the SQLite migrations lacking a PostgreSQL twin, and refuses a PostgreSQL-only one", () => {
    expect(missingTwins(["a", "b", "c"], ["a", "b"])).toEqual(["c"]);
    expect(missingTwins(["a"], ["a"])).toEqual([]);
    expect(() => missingTwins(["a"], ["a", "z"])).toThrow(/without a SQLite twin: z/);
  });

  it("formats the folder timestamp in UTC", () => {
    expect(migrationTimestamp(new Date("2026-03-04T05:06:07.890Z"))).toBe("20260304050607");
  });
});
