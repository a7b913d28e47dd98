import { readFile, readdir, rm } from "node:fs/promises";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, databaseFile, openDatabase, type Db } from "./db";
import { migrationChecksum } from "./migrate";
import { MIGRATIONS_DIR } from "./schema-engine";

const EXPECTED_TABLES = [
  "ApiToken",
  "IdempotencyKey",
  "Lane",
  "LaneEvent",
  "Node",
  "Process",
  "Repo",
  "SchedulerState",
  "Webhook",
  "WebhookDelivery",
  "Worker",
  "_prisma_migrations",
];

async function committedMigrations(): Promise<string[]> {
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

describe("openDatabase on a fresh data dir", () => {
  let root: string;
  let dataDir: string;
  let db: Db;
  let migratedOnOpen: string[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "laneboard-store-"));
    dataDir = path.join(root, "nested", "data"); // does not exist yet: openDatabase must mkdir -p
    db = await openDatabase(dataDir, { onMigrated: (applied) => (migratedOnOpen = applied) });
  });

  afterAll(async () => {
    await closeDatabase(db);
    await rm(root, { recursive: true, force: true });
  });

  it("creates laneboard.db and applies every committed migration", async () => {
    expect(databaseFile(dataDir)).toBe(path.join(dataDir, "laneboard.db"));
    expect(migratedOnOpen).toEqual(await committedMigrations());
    expect(migratedOnOpen.length).toBeGreaterThan(0);
    const tables = await db.$queryRawUnsafe<{ name: string }[]>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    expect(tables.map((t) => t.name)).toEqual(EXPECTED_TABLES);
  });

  it("runs in WAL mode with the documented pragmas", async () => {
    const one = async (pragma: string) => Object.values((await db.$queryRawUnsafe<Record<string, unknown>[]>(`PRAGMA ${pragma}`))[0]!)[0];
    expect(await one("journal_mode")).toBe("wal");
    expect(Number(await one("foreign_keys"))).toBe(1);
    expect(Number(await one("synchronous"))).toBe(1); // NORMAL
    expect(Number(await one("busy_timeout"))).toBe(5000);
  });

  it("records each migration in _prisma_migrations as Prisma does", async () => {
    const rows = await db.$queryRawUnsafe<
      { migration_name: string; checksum: string; finished_at: unknown; rolled_back_at: unknown; logs: unknown; applied_steps_count: bigint }[]
    >("SELECT * FROM _prisma_migrations ORDER BY migration_name");
    const names = await committedMigrations();
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    const init = rows.find((r) => r.migration_name.endsWith("_init"));
    expect(init?.migration_name).toMatch(/^\d{14}_init$/);
    for (const row of rows) {
      const sql = await readFile(path.join(MIGRATIONS_DIR, row.migration_name, "migration.sql"), "utf8");
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.checksum).toBe(migrationChecksum(sql));
      expect(row.finished_at).not.toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(Number(row.applied_steps_count)).toBe(1);
    }
  });

  it("round-trips a Repo, a Lane and LaneEvents with increasing ids", async () => {
    const repo = await db.repo.create({ data: { path: "/srv/demo", name: "demo", mainBranch: "main" } });
    const lane = await db.lane.create({
      data: {
        repoId: repo.id,
        slug: "fix-login",
        objective: "Fix the login form",
        branch: "lane/fix-login",
        baseBranch: "main",
        worktreePath: "/srv/demo-worktrees/fix-login",
        engine: "script",
        packet: JSON.stringify({ objective: "Fix the login form" }),
        state: "queued",
      },
    });
    const first = await db.laneEvent.create({ data: { laneId: lane.id, repoId: repo.id, type: "lane.created", version: 1, payload: "{}" } });
    const second = await db.laneEvent.create({ data: { laneId: lane.id, type: "lane.state", version: 1, payload: '{"to":"starting"}' } });
    expect(second.id).toBeGreaterThan(first.id);

    const read = await db.lane.findUniqueOrThrow({ where: { id: lane.id }, include: { repo: true, events: { orderBy: { id: "asc" } } } });
    expect(read.repo).toEqual(repo);
    expect(read).toMatchObject({ state: "queued", stateVersion: 0, checks: "{}", attempt: 0, baseSha: null });
    expect(read.queuedAt).toBeInstanceOf(Date);
    expect(read.events.map((e) => [e.id, e.type, e.payload])).toEqual([
      [first.id, "lane.created", "{}"],
      [second.id, "lane.state", '{"to":"starting"}'],
    ]);
  });

  it("enforces foreign keys", async () => {
    await expect(
      db.laneEvent.create({ data: { laneId: "no-such-lane", type: "lane.created", version: 1, payload: "{}" } }),
    ).rejects.toThrow(/foreign key/i);
  });

  it("reopening applies nothing and keeps the data", async () => {
    await closeDatabase(db);
    let migratedAgain: string[] | undefined;
    db = await openDatabase(dataDir, { onMigrated: (applied) => (migratedAgain = applied) });
    expect(migratedAgain).toBeUndefined();
    expect(await db.repo.count()).toBe(1);
    const rows = await db.$queryRawUnsafe<unknown[]>("SELECT 1 FROM _prisma_migrations");
    expect(rows).toHaveLength((await committedMigrations()).length);
  });
});
