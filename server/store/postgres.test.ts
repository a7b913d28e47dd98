/**
 * The PostgreSQL store against a real server (the suite's PostgreSQL run; skipped on SQLite):
 * migrations at boot, concurrent boots, an older node refused, an unreachable URL, and event ids
 * that become visible in commit order across several writers.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { EventBus } from "../events/event-bus";
import { EventLog } from "../events/event-log";
import { createTestDatabase, testPostgresUrl } from "../testing/test-database";
import { closeDatabase, databaseProvider, openDatabase, type Db } from "./db";
import { dialectPaths } from "./dialect-schema";
import { freePort } from "@/scripts/lib/throwaway-postgres";
import { readMigrationsList } from "./schema-engine";

const migrationNames = async (dir: string) => (await readMigrationsList(dir)).migrationDirectories.map((d) => d.path);

const admin = testPostgresUrl();
let seq = 0;
/** Prisma's `transactionOptions.maxWait` when the client sets none. */
const PRISMA_DEFAULT_MAX_WAIT_MS = 2000;
/** A fresh, empty database (no template: migrations run on it). */
const freshDatabase = () => createTestDatabase(admin!, `store_${process.pid}_${++seq}`, null);

async function rows<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe.skipIf(!admin)("PostgreSQL store", () => {
  let dataDir: string;
  const open: Db[] = [];
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "laneboard-pgstore-"));
  });
  afterAll(async () => {
    await Promise.all(open.map(closeDatabase));
    await rm(dataDir, { recursive: true, force: true });
  });

  it("applies every migration of prisma/postgresql/migrations on first open, records them as Prisma does, then nothing", async () => {
    const url = await freshDatabase();
    let applied: string[] = [];
    const db = await openDatabase(dataDir, { databaseUrl: url, onMigrated: (a) => (applied = a) });
    open.push(db);
    expect(databaseProvider(db)).toBe("postgresql");
    const names = await migrationNames(dialectPaths("postgresql").migrations);
    expect(applied).toEqual(names);
    const recorded = await rows<{ migration_name: string; finished: boolean }>(url, `SELECT migration_name, finished_at IS NOT NULL AS finished FROM "_prisma_migrations" ORDER BY migration_name`);
    expect(recorded).toEqual(names.map((migration_name) => ({ migration_name, finished: true })));
    let again: string[] | null = null;
    open.push(await openDatabase(dataDir, { databaseUrl: url, onMigrated: (a) => (again = a) }));
    expect(again).toBeNull();
  });

  it("lets several nodes boot at once: the migrations are applied once", async () => {
    const url = await freshDatabase();
    const dbs = await Promise.all([1, 2, 3].map(() => openDatabase(dataDir, { databaseUrl: url })));
    open.push(...dbs);
    const recorded = await rows<{ n: string }>(url, `SELECT count(*)::text AS n FROM "_prisma_migrations"`);
    expect(Number(recorded[0]!.n)).toBe((await migrationNames(dialectPaths("postgresql").migrations)).length);
  });

  it("refuses to start a node older than the database's schema, naming the unknown migration, and writes nothing", async () => {
    const url = await freshDatabase();
    open.push(await openDatabase(dataDir, { databaseUrl: url }));
    await rows(url, `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('x', 'x', now(), '29990101000000_from_the_future', 1)`);
    const before = await rows(url, `SELECT migration_name FROM "_prisma_migrations" ORDER BY 1`);
    const err = await openDatabase(dataDir, { databaseUrl: url }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe("conflict");
    expect((err as Error).message).toMatch(/schema version mismatch.*29990101000000_from_the_future.*older than the database/);
    expect(await rows(url, `SELECT migration_name FROM "_prisma_migrations" ORDER BY 1`)).toEqual(before);
  });

  it("fails an unreachable database URL at once with a clear message and no password in it", async () => {
    const port = await freePort();
    const url = `postgresql://laneboard:s3cret@127.0.0.1:${port}/laneboard`;
    const err = await openDatabase(dataDir, { databaseUrl: url }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe("unavailable");
    expect((err as Error).message).toContain(`cannot reach PostgreSQL at postgresql://laneboard:***@127.0.0.1:${port}/laneboard`);
    expect((err as Error).message).toContain("nothing is listening there");
    expect((err as Error).message).not.toContain("s3cret");
    const missing = await openDatabase(dataDir, { databaseUrl: `${admin!.replace(/\/[^/]*$/, "")}/no_such_database` }).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/database does not exist/);
  });

  it("lets a transaction wait for a busy connection pool as long as a query would, instead of failing with P2028 after 2 s", async () => {
    // Under load every pooled connection can be busy for seconds. A plain query waits for one (up
    // to the pool's connect timeout); a transaction gave up after Prisma's default maxWait (2 s)
    // with P2028 "Unable to start a transaction in the given time", losing e.g. a usage save.
    const url = await freshDatabase();
    const db = await openDatabase(dataDir, { databaseUrl: url, poolSize: 1 });
    open.push(db);
    const repo = await db.repo.create({ data: { path: "/busy", name: "busy", mainBranch: "main" } });
    const holder = new pg.Client(url);
    await holder.connect();
    await holder.query("BEGIN");
    await holder.query(`SELECT 1 FROM "Repo" WHERE "id" = $1 FOR UPDATE`, [repo.id]);
    // The pool's only connection waits for the row lock held above, so the transaction below
    // cannot get a connection until the lock goes.
    const blocked = db.repo.update({ where: { id: repo.id }, data: { name: "first" } }).then(() => undefined);
    const waiting = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`;
    while ((await holder.query<{ n: number }>(waiting)).rows[0]!.n < 1) await new Promise((r) => setImmediate(r));
    const batch = db.$transaction([db.repo.update({ where: { id: repo.id }, data: { name: "second" } }), db.repo.update({ where: { id: repo.id }, data: { mainBranch: "trunk" } })]);
    const settled = batch.then(() => "committed", (e: unknown) => e);
    await new Promise((r) => setTimeout(r, PRISMA_DEFAULT_MAX_WAIT_MS + 500));
    await holder.query("COMMIT");
    await holder.end();
    await blocked;
    expect(await settled).toBe("committed");
    expect(await db.repo.findUniqueOrThrow({ where: { id: repo.id }, select: { name: true, mainBranch: true } })).toEqual({ name: "second", mainBranch: "trunk" });
  });

  it("makes event ids visible in commit order across writers: a reader following the cursor skips none", async () => {
    // Writer A draws an id, then stalls before committing (its Lane.lastEventId trigger waits for
    // a row lock this test holds); writer B appends meanwhile. Were B's later id visible before
    // A's, a reader would move its cursor past A's id and never see it.
    const url = await freshDatabase();
    const [dbA, dbB] = await Promise.all([1, 2].map(() => openDatabase(dataDir, { databaseUrl: url })));
    open.push(dbA!, dbB!);
    const repo = await dbA!.repo.create({ data: { path: "/r", name: "r", mainBranch: "main" } });
    const lane = (slug: string) => dbA!.lane.create({ data: { repoId: repo.id, slug, objective: slug, branch: `lane/${slug}`, baseBranch: "main", worktreePath: `/w/${slug}`, engine: "shell", packet: "{}", state: "queued" } });
    const [laneA, laneB] = [await lane("a"), await lane("b")];
    const holder = new pg.Client(url);
    const reader = new pg.Client(url);
    await Promise.all([holder.connect(), reader.connect()]);
    await holder.query("BEGIN");
    await holder.query(`UPDATE "Lane" SET "slug" = "slug" WHERE "id" = $1`, [laneA.id]);
    const waiting = async () => Number((await reader.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_stat_activity WHERE wait_event_type IN ('Lock', 'Advisory') AND datname = current_database()`)).rows[0]!.n);
    const until = async (cond: () => Promise<boolean>) => {
      while (!(await cond())) await new Promise((r) => setImmediate(r));
    };
    const event = (laneId: string) => ({ type: "lane.queued" as const, laneId, repoId: repo.id, payload: { reason: "test", position: null } });
    const appendA = new EventLog(dbA!, new EventBus()).append(event(laneA.id));
    await until(async () => (await waiting()) >= 1);
    let bDone = false;
    const appendB = new EventLog(dbB!, new EventBus()).append(event(laneB.id)).then((e) => ((bDone = true), e));
    await until(async () => bDone || (await waiting()) >= 2);

    const read = async (after: number) => (await reader.query<{ id: number }>(`SELECT id FROM "LaneEvent" WHERE id > $1 ORDER BY id`, [after])).rows.map((r) => r.id);
    const first = await read(0);
    const cursor = first.at(-1) ?? 0;
    await holder.query("COMMIT");
    const [a, b] = await Promise.all([appendA, appendB]);
    const seen = [...first, ...(await read(cursor))];
    await Promise.all([holder.end(), reader.end()]);
    expect(seen.sort((x, y) => x - y)).toEqual([a.id, b.id].sort((x, y) => x - y));
  });
});
