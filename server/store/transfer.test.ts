/**
 * `laneboard db export|import` (transfer.ts): a data dir that ran on SQLite moves to PostgreSQL
 * and the server started on it there sees the same lanes, events, cursor and logs. Needs a
 * PostgreSQL server: runs in the suite's PostgreSQL run.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { ConfigSchema } from "../config";
import { commitFile, initRepo, makeTempDir } from "../git/git.testing";
import { createRuntime, type Runtime } from "../runtime";
import { shellPacket, waitForLane } from "../testing/runtime-harness";
import { createTestDatabase, testPostgresUrl } from "../testing/test-database";
import { databaseFile } from "./db";
import { schemaVersion } from "./dialect-schema";
import { applyPostgresMigrations } from "./migrate-postgres";
import { exportSqlite, importToPostgres, sqliteTime, tableOrder } from "./transfer";

const admin = testPostgresUrl();

describe("transfer helpers", () => {
  it("orders tables parents first", () => {
    const parents: Record<string, string[]> = { Lane: ["Repo"], Worker: ["Lane"], LaneEvent: ["Lane"], Repo: [], Webhook: ["Repo"] };
    const order = tableOrder(Object.keys(parents), (t) => parents[t]!);
    for (const [child, ps] of Object.entries(parents)) for (const p of ps) expect(order.indexOf(p)).toBeLessThan(order.indexOf(child));
  });

  it("reads SQLite times in every form Prisma and SQLite write them, as UTC", () => {
    expect(sqliteTime("2026-12-04 14:46:30")).toBe("2026-12-04T14:46:30.000Z");
    expect(sqliteTime("2026-12-04T14:46:30.491Z")).toBe("2026-12-04T14:46:30.491Z");
    expect(sqliteTime("2026-12-04T14:46:30.491+00:00")).toBe("2026-12-04T14:46:30.491Z");
    expect(sqliteTime(1796395590491)).toBe(new Date(1796395590491).toISOString());
    expect(sqliteTime(null)).toBeNull();
    expect(() => sqliteTime("yesterday")).toThrow(/not a time/);
  });
});

describe.skipIf(!admin)("db export | import: a SQLite data dir moved to PostgreSQL", () => {
  let data: { dir: string; cleanup: () => Promise<void> };
  let repo: { dir: string; cleanup: () => Promise<void> };
  let rt: Runtime | null = null;
  let dump: string;
  let url: string;
  const ids: Record<string, string> = {};
  let cursor = 0;
  let exportedEvents = 0;
  let lastExportedId = 0;

  beforeAll(async () => {
    data = await makeTempDir("laneboard-transfer-");
    repo = await makeTempDir("laneboard-transfer-repo-");
    await initRepo(repo.dir);
    await commitFile(repo.dir, "package.json", "{}\n", "add package.json");
    dump = path.join(await mkdtemp(path.join(os.tmpdir(), "laneboard-dump-")), "laneboard.jsonl");
    // On SQLite: a finished lane, a failed one, one still queued.
    rt = await createRuntime(ConfigSchema.parse({ dataDir: data.dir, demo: false, killGraceMs: 1000, workerCap: 2, killOnExit: true }));
    const repoId = (await rt.repos.register({ path: repo.dir })).id;
    ids.done = (await rt.lanes.create(shellPacket(repoId, ["sh", "-c", "echo moved-along; echo line-2"]))).id;
    ids.failed = (await rt.lanes.create(shellPacket(repoId, ["sh", "-c", "echo about-to-fail; exit 3"]))).id;
    await waitForLane(rt, ids.done, (l) => l.state === "finished");
    await waitForLane(rt, ids.failed, (l) => l.state === "failed");
    await rt.scheduler.settings.setCaps({ global: { agent: 0 } });
    ids.queued = (await rt.lanes.create(shellPacket(repoId, ["true"]))).id;
    await rt.scheduler.idle();
    cursor = await rt.events.latestId();
    await rt.quit();
    rt = null;
    url = await createTestDatabase(admin!, `transfer_${process.pid}_${Date.now()}`, null);
  }, 240_000); // two real lanes, then a PostgreSQL database migrated from empty

  afterAll(async () => {
    await rt?.quit();
    await data?.cleanup();
    await repo?.cleanup();
    await rm(path.dirname(dump), { recursive: true, force: true });
  });

  it("exports every table with a header naming the schema version", async () => {
    const lines: string[] = [];
    const counts = await exportSqlite(databaseFile(data.dir), (l) => void lines.push(l));
    await writeFile(dump, lines.join("\n") + "\n");
    expect(JSON.parse(lines[0]!)).toMatchObject({ format: "laneboard-db", version: 1, schemaVersion: schemaVersion("sqlite") });
    expect(counts).toMatchObject({ Repo: 1, Lane: 3 });
    expect(counts.LaneEvent).toBeGreaterThan(10);
    exportedEvents = counts.LaneEvent!;
    // Shutting down may append after the cursor a client last read: the export has those too.
    const eventIds = lines.slice(1).map((l) => JSON.parse(l) as { table: string; row: { id: number } }).filter((m) => m.table === "LaneEvent").map((m) => m.row.id);
    lastExportedId = Math.max(...eventIds);
    expect(lastExportedId).toBeGreaterThanOrEqual(cursor);
    expect(counts).not.toHaveProperty("_prisma_migrations");
  });

  it("imports into a migrated, empty PostgreSQL database; the server started there sees the same lanes, events, cursor and logs", async () => {
    await applyPostgresMigrations(url);
    const client = new pg.Client(url);
    await client.connect();
    try {
      const counts = await importToPostgres(client, dump, { schemaVersion: schemaVersion("postgresql") });
      expect(counts.Lane).toBe(3);
      const again = await importToPostgres(client, dump, { schemaVersion: schemaVersion("postgresql") }).catch((e: unknown) => e);
      expect(isAppError(again) && again.code).toBe("conflict");
    } finally {
      await client.end();
    }
    rt = await createRuntime(ConfigSchema.parse({ dataDir: data.dir, databaseUrl: url, demo: false, killGraceMs: 1000, workerCap: 2, killOnExit: true }));
    expect((await rt.lanes.get(ids.done!)).state).toBe("finished");
    expect((await rt.lanes.get(ids.failed!)).state).toBe("failed");
    expect((await rt.lanes.get(ids.queued!)).state).toBe("queued");
    const { events } = await rt.events.listAfter(0, { limit: 5000 });
    // Every event moved with its id (the cursor clients resume from); new ones continue after them.
    expect(events.filter((e) => e.id <= lastExportedId)).toHaveLength(exportedEvents);
    expect(events.some((e) => e.id === cursor)).toBe(true);
    const appended = await rt.events.append({ type: "repo.registered", laneId: null, repoId: null, payload: { path: "/x", name: "x", mainBranch: "main" } });
    expect(appended.id).toBeGreaterThan(lastExportedId);
    // The process rows point at log files in the same data dir: the lane logs read as before.
    expect((await rt.lanes.logs(ids.done!, { limit: 10 })).lines.map((l) => l.text)).toEqual(["moved-along", "line-2"]);
    // The queued lane runs once caps allow.
    await rt.scheduler.settings.setCaps({ global: { agent: 2 } });
    await waitForLane(rt, ids.queued!, (l) => l.state === "finished");
  }, 240_000); // migrations from empty, the import, and a server started on PostgreSQL

  it("refuses a file that is not an export, and an export of another schema version", async () => {
    const client = new pg.Client(await createTestDatabase(admin!, `transfer_bad_${process.pid}_${Date.now()}`));
    await client.connect();
    try {
      const bogus = path.join(path.dirname(dump), "bogus.jsonl");
      await writeFile(bogus, '{"hello":"world"}\n');
      expect(await importToPostgres(client, bogus, { schemaVersion: schemaVersion("postgresql") }).catch((e: Error) => e.message)).toMatch(/not a Laneboard export/);
      const older = path.join(path.dirname(dump), "older.jsonl");
      const text = await readFile(dump, "utf8");
      await writeFile(older, text.replace(/"schemaVersion":"[^"]+"/, '"schemaVersion":"20200101000000_old"'));
      expect(await importToPostgres(client, older, { schemaVersion: schemaVersion("postgresql") }).catch((e: Error) => e.message)).toMatch(/export is of schema 20200101000000_old/);
    } finally {
      await client.end();
    }
  });
});
