import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import type { SqlDriverAdapter, SqlQuery } from "@prisma/driver-adapter-utils";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, openDatabase, type Db } from "./db";
import { MAX_STATEMENTS, cacheStatements } from "./statement-cache";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "laneboard-stmt-cache-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A query as Prisma hands it to the adapter (arguments and their types). */
const q = (sql: string, args: (string | number)[] = []): SqlQuery => ({
  sql,
  args,
  argTypes: args.map((a) => ({ scalarType: typeof a === "number" ? "int" : "string", arity: "scalar" })),
});

describe("cacheStatements under the Prisma better-sqlite3 adapter", () => {
  let adapter: SqlDriverAdapter;
  let cache: { prepared(): number };

  beforeAll(async () => {
    adapter = await new PrismaBetterSqlite3({ url: `file:${path.join(root, "adapter.db")}` }).connect();
    cache = cacheStatements((adapter as unknown as { client: Database.Database }).client);
    await adapter.executeScript("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
  });
  afterAll(async () => {
    await adapter.dispose();
  });

  it("prepares a query's SQL once and runs it with each call's arguments", async () => {
    const insert = "INSERT INTO t (id, name) VALUES (?, ?)";
    const select = "SELECT id, name FROM t WHERE id = ?";
    const before = cache.prepared();
    expect(await adapter.executeRaw(q(insert, [1, "one"]))).toBe(1);
    expect(await adapter.executeRaw(q(insert, [2, "two"]))).toBe(1);
    const one = await adapter.queryRaw(q(select, [1]));
    const two = await adapter.queryRaw(q(select, [2]));
    expect(one.columnNames).toEqual(["id", "name"]);
    expect(one.rows).toEqual([[1, "one"]]);
    expect(two.rows).toEqual([[2, "two"]]);
    expect(cache.prepared() - before).toBe(2);
  });

  it("keeps a driver error a driver error, and the statement usable after it", async () => {
    const insert = "INSERT INTO t (id, name) VALUES (?, ?)";
    await expect(adapter.executeRaw(q(insert, [3, "one"]))).rejects.toMatchObject({ name: "DriverAdapterError" });
    expect(await adapter.executeRaw(q(insert, [3, "three"]))).toBe(1);
  });

  it("runs a statement without rows through queryRaw (what Prisma does for some writes)", async () => {
    const res = await adapter.queryRaw(q("UPDATE t SET name = ? WHERE id = ?", ["uno", 1]));
    expect(res.rows).toEqual([]);
    expect((await adapter.queryRaw(q("SELECT name FROM t WHERE id = ?", [1]))).rows).toEqual([["uno"]]);
  });

  it("commits and rolls back transactions (BEGIN is run unbound)", async () => {
    const tx = await adapter.startTransaction();
    await tx.executeRaw(q("INSERT INTO t (id, name) VALUES (?, ?)", [10, "ten"]));
    await tx.executeRaw(q("COMMIT"));
    await tx.commit();
    const tx2 = await adapter.startTransaction();
    await tx2.executeRaw(q("INSERT INTO t (id, name) VALUES (?, ?)", [11, "eleven"]));
    await tx2.executeRaw(q("ROLLBACK"));
    await tx2.rollback();
    const ids = await adapter.queryRaw(q("SELECT id FROM t WHERE id >= ? ORDER BY id", [10]));
    expect(ids.rows).toEqual([[10]]);
  });

  it("keeps at most MAX_STATEMENTS, dropping the least recently used", async () => {
    const hot = "SELECT count(*) AS n FROM t";
    await adapter.queryRaw(q(hot));
    const before = cache.prepared();
    // As many other texts as the cache holds, the hot one used between them: it stays.
    for (let i = 0; i < MAX_STATEMENTS; i++) {
      await adapter.queryRaw(q(`SELECT ${i} AS k`));
      await adapter.queryRaw(q(hot));
    }
    expect(cache.prepared() - before).toBe(MAX_STATEMENTS);
    // The first of those was the least recently used: dropped, so prepared again.
    await adapter.queryRaw(q("SELECT 0 AS k"));
    expect(cache.prepared() - before).toBe(MAX_STATEMENTS + 1);
  });
});

describe("openDatabase", () => {
  let db: Db;
  let prepares = 0;
  const prepare = Database.prototype.prepare;

  beforeAll(async () => {
    // Counted on the prototype, which the cache calls for a statement it does not hold.
    Database.prototype.prepare = function (this: Database.Database, sql: string) {
      prepares++;
      return prepare.call(this, sql);
    } as typeof prepare;
    db = await openDatabase(path.join(root, "data"));
  });
  afterAll(async () => {
    Database.prototype.prepare = prepare;
    await closeDatabase(db);
  });

  it("keeps the statements of the Prisma client's queries", async () => {
    await db.repo.create({ data: { id: "r1", path: "/r1", name: "r1", mainBranch: "main" } });
    const first = await db.repo.findUnique({ where: { id: "r1" } });
    const afterFirst = prepares;
    const again = await db.repo.findUnique({ where: { id: "r1" } });
    expect(again).toEqual(first);
    expect(prepares).toBe(afterFirst);
  });
});
