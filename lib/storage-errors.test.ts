/**
 * storageFailureOf against the errors the real drivers throw: a full disk is only ENOSPC /
 * SQLITE_FULL; a database locked by another connection (which Prisma reports as a timeout, P1008)
 * is "busy"; anything else is not a storage refusal.
 */
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, databaseFile, openDatabase, type Db } from "@/server/store/db";
import { storageFailureOf } from "./storage-errors";

let dir: string;
let db: Db;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-storage-errors-"));
  db = await openDatabase(dir);
});
afterAll(async () => {
  await closeDatabase(db);
  await rm(dir, { recursive: true, force: true });
});

const thrown = async (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.fail("expected a rejection"), (err: unknown) => err);
const repo = (id: string, name: string) => db.repo.create({ data: { id, path: `/r/${id}`, name, mainBranch: "main" } });

describe("storageFailureOf", () => {
  it("calls SQLITE_FULL a full disk, from a model query and from raw SQL", async () => {
    const [{ page_count } = { page_count: 0n }] = await db.$queryRawUnsafe<{ page_count: bigint }[]>("PRAGMA page_count");
    await db.$executeRawUnsafe(`PRAGMA max_page_count = ${Number(page_count) + 1}`);
    try {
      expect(storageFailureOf(await thrown(repo("big", "x".repeat(200_000))))).toBe("disk_full");
      const raw = db.$executeRawUnsafe(`INSERT INTO "Repo" ("id", "path", "name", "mainBranch", "createdAt") VALUES ('raw', '/r/raw', '${"y".repeat(200_000)}', 'main', CURRENT_TIMESTAMP)`);
      expect(storageFailureOf(await thrown(raw))).toBe("disk_full");
    } finally {
      await db.$executeRawUnsafe("PRAGMA max_page_count = 1073741823");
    }
  });

  it("calls ENOSPC from the file system a full disk", () => {
    let err: unknown = null;
    try {
      writeFileSync("/dev/full", "x");
    } catch (e) {
      err = e;
    }
    expect((err as NodeJS.ErrnoException).code).toBe("ENOSPC");
    expect(storageFailureOf(err)).toBe("disk_full");
  });

  it("calls a database locked by another connection past the busy timeout busy, not full (Prisma says P1008, a timeout)", async () => {
    const other = new Database(databaseFile(dir));
    other.exec("BEGIN IMMEDIATE");
    try {
      const err = await thrown(repo("locked", "l"));
      expect((err as { code?: string }).code).toBe("P1008");
      expect(storageFailureOf(err)).toBe("busy");
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
  });

  it("is null for faults and clients' errors: a unique violation, a timeout of our own, a plain error", async () => {
    await repo("dup", "d");
    expect(storageFailureOf(await thrown(repo("dup", "d")))).toBeNull();
    expect(storageFailureOf(new DOMException("The operation timed out.", "TimeoutError"))).toBeNull();
    expect(storageFailureOf(new Error("database or disk is full, says a client's text"))).toBeNull();
    expect(storageFailureOf(null)).toBeNull();
  });
});
