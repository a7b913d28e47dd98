import { appendFile, cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isAppError } from "@/lib/errors";
import { applyMigrations } from "./migrate";
import { MIGRATIONS_DIR, readMigrationsList, runSchemaEngine } from "./schema-engine";

let root: string;
let migrationsDir: string;
let dbFile: string;

/** Add a hand-written migration folder to the temp migrations dir. */
async function addMigration(name: string, sql: string): Promise<void> {
  await mkdir(path.join(migrationsDir, name));
  await writeFile(path.join(migrationsDir, name, "migration.sql"), sql);
}

function query<T>(sql: string): T[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "laneboard-migrate-"));
  migrationsDir = path.join(root, "migrations");
  await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
  dbFile = path.join(root, "test.db");
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(root, { recursive: true, force: true });
});

describe("applyMigrations", () => {
  it("applies only what is pending, in name order, and then nothing", async () => {
    const committed = (await readdir(migrationsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(await applyMigrations(dbFile, { migrationsDir })).toEqual({ applied: committed.sort() });

    await addMigration("29990101000001_repo_color", 'ALTER TABLE "Repo" ADD COLUMN "color" TEXT;\n');
    await addMigration("29990101000000_repo_label", 'ALTER TABLE "Repo" ADD COLUMN "label" TEXT;\n');
    expect(await applyMigrations(dbFile, { migrationsDir })).toEqual({
      applied: ["29990101000000_repo_label", "29990101000001_repo_color"],
    });
    const columns = query<{ name: string }>("PRAGMA table_info(Repo)").map((c) => c.name);
    expect(columns).toEqual(expect.arrayContaining(["label", "color"]));

    expect(await applyMigrations(dbFile, { migrationsDir })).toEqual({ applied: [] });
  });

  it("skips the engine only when the engine itself would apply nothing", async () => {
    await applyMigrations(dbFile, { migrationsDir });
    expect(await applyMigrations(dbFile, { migrationsDir })).toEqual({ applied: [] }); // fast path
    const engine = await runSchemaEngine({ op: "apply", url: `file:${dbFile}`, migrationsList: await readMigrationsList(migrationsDir) });
    expect(engine).toEqual({ applied: [] });
  });

  it("records a failing migration as failed and refuses to go on, as Prisma does (P3009)", async () => {
    await applyMigrations(dbFile, { migrationsDir });
    await addMigration("29990101000000_broken", 'ALTER TABLE "NoSuchTable" ADD COLUMN "x" TEXT;\n');

    const first = await applyMigrations(dbFile, { migrationsDir }).catch((err: unknown) => err);
    expect(isAppError(first)).toBe(true);
    expect((first as Error).message).toMatch(/29990101000000_broken/);
    expect((first as Error).message).toMatch(/NoSuchTable/);

    const [row] = query<{ finished_at: string | null; logs: string | null }>(
      "SELECT finished_at, logs FROM _prisma_migrations WHERE migration_name = '29990101000000_broken'",
    );
    expect(row?.finished_at).toBeNull();
    expect(row?.logs).toMatch(/NoSuchTable/);

    // Fixing the file is not enough: the failed row must be resolved first (prisma migrate resolve).
    await writeFile(path.join(migrationsDir, "29990101000000_broken", "migration.sql"), 'ALTER TABLE "Repo" ADD COLUMN "x" TEXT;\n');
    const second = await applyMigrations(dbFile, { migrationsDir }).catch((err: unknown) => err);
    expect((second as Error).message).toMatch(/P3009|failed migrations/);

    // What `prisma migrate resolve --rolled-back` records (prisma/README.md): then the fixed file applies.
    const db = new Database(dbFile);
    db.prepare("UPDATE _prisma_migrations SET rolled_back_at = CURRENT_TIMESTAMP WHERE finished_at IS NULL").run();
    db.close();
    expect(await applyMigrations(dbFile, { migrationsDir })).toEqual({ applied: ["29990101000000_broken"] });
  });

  it("refuses a database migrated by a newer Laneboard (a migration it does not know), writing nothing", async () => {
    await applyMigrations(dbFile, { migrationsDir });
    const newer = path.join(root, "newer");
    await cp(migrationsDir, newer, { recursive: true });
    await mkdir(path.join(newer, "29990101000000_from_the_future"));
    await writeFile(path.join(newer, "29990101000000_from_the_future", "migration.sql"), 'ALTER TABLE "Repo" ADD COLUMN "future" TEXT;\n');
    expect((await applyMigrations(dbFile, { migrationsDir: newer })).applied).toEqual(["29990101000000_from_the_future"]);
    const before = query<{ migration_name: string }>("SELECT migration_name FROM _prisma_migrations ORDER BY 1");

    const err = await applyMigrations(dbFile, { migrationsDir }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe("conflict");
    expect((err as Error).message).toMatch(/schema version mismatch.*29990101000000_from_the_future.*older than the database/);
    expect(query<{ migration_name: string }>("SELECT migration_name FROM _prisma_migrations ORDER BY 1")).toEqual(before);
  });

  it("warns when an applied migration was edited, and applies nothing", async () => {
    await applyMigrations(dbFile, { migrationsDir });
    const [first] = (await readMigrationsList(migrationsDir)).migrationDirectories;
    await appendFile(path.join(migrationsDir, first!.path, "migration.sql"), "\n-- edited\n");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(await applyMigrations(dbFile, { migrationsDir })).toEqual({ applied: [] });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(`${first!.path} was edited`));
  });
});

describe("readMigrationsList", () => {
  it("reads the folder the way the Prisma CLI does", async () => {
    const list = await readMigrationsList(migrationsDir);
    expect(list.baseDir).toBe(migrationsDir);
    expect(list.lockfile).toEqual({ path: "migration_lock.toml", content: expect.stringContaining('provider = "sqlite"') });
    expect(list.migrationDirectories[0]?.migrationFile).toMatchObject({ path: "migration.sql", content: { tag: "ok" } });
  });

  it("treats a missing folder as no migrations", async () => {
    const list = await readMigrationsList(path.join(root, "absent"));
    expect(list.migrationDirectories).toEqual([]);
    expect(list.lockfile.content).toBeNull();
  });
});
