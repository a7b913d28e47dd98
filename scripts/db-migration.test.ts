import { cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations } from "@/server/store/migrate";
import { MIGRATIONS_DIR, REPO_ROOT, SCHEMA_FILE, SQLITE_LOCKFILE_CONTENT } from "@/server/store/schema-engine";
import { migrationTimestamp, slugifyMigrationName } from "./db-migration";

const TSX = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
const SCRIPT = path.join(REPO_ROOT, "scripts", "db-migration.ts");

/** Run the script as `npm run db:migration` does (tsx, cwd = repo root). */
function runScript(args: string[]) {
  return execa(TSX, [SCRIPT, ...args], { cwd: REPO_ROOT, reject: false });
}

async function listDirs(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

describe("db:migration", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "laneboard-dbmig-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("reports no changes for the committed schema and writes nothing", async () => {
    const before = await listDirs(MIGRATIONS_DIR);
    const run = await runScript(["should_not_exist"]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toBe("no changes");
    expect(await listDirs(MIGRATIONS_DIR)).toEqual(before);
  });

  it("writes the next migration for a schema change in a copy", async () => {
    const schemaFile = path.join(root, "schema.prisma");
    const migrationsDir = path.join(root, "migrations");
    await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
    const before = await listDirs(migrationsDir);
    const schema = (await readFile(SCHEMA_FILE, "utf8"))
      .replace(/(\n\s*mainBranch\s+String\n)/, '$1  color String?\n')
      .concat('\nmodel Tag {\n  id    Int    @id @default(autoincrement())\n  label String @unique\n}\n');
    expect(schema).toContain("color String?");
    await writeFile(schemaFile, schema);

    const run = await runScript(["Add tag", "--schema", schemaFile, "--migrations-dir", migrationsDir]);
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
    const again = await runScript(["again", "--schema", schemaFile, "--migrations-dir", migrationsDir]);
    expect(again.stdout.trim()).toBe("no changes");
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

  it("formats the folder timestamp in UTC", () => {
    expect(migrationTimestamp(new Date("2026-03-04T05:06:07.890Z"))).toBe("20260304050607");
  });
});
