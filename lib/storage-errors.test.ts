/**
 * storageFailureOf against the errors the real drivers throw: a full disk is only ENOSPC /
 * SQLITE_FULL; a database locked by another connection (which Prisma reports as a timeout, P1008)
 * is "busy"; anything else is not a storage refusal.
 */
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { capDatabasePages, databasePerFile, lockDatabase } from "@/server/store/db.testing";
import { storageFailureOf } from "./storage-errors";

const store = databasePerFile("laneboard-storage-errors-");

const thrown = async (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.fail("expected a rejection"), (err: unknown) => err);
const repo = (id: string, name: string) => store.db.repo.create({ data: { id, path: `/r/${id}`, name, mainBranch: "main" } });

describe("storageFailureOf", () => {
  it("calls SQLITE_FULL a full disk, from a model query and from raw SQL", async () => {
    const { db } = store;
    await capDatabasePages(db, 1);
    try {
      expect(storageFailureOf(await thrown(repo("big", "x".repeat(200_000))))).toBe("disk_full");
      const raw = db.$executeRawUnsafe(`INSERT INTO "Repo" ("id", "path", "name", "mainBranch", "createdAt") VALUES ('raw', '/r/raw', '${"y".repeat(200_000)}', 'main', CURRENT_TIMESTAMP)`);
      expect(storageFailureOf(await thrown(raw))).toBe("disk_full");
    } finally {
      await capDatabasePages(db, null);
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
    const unlock = lockDatabase(store.dir);
    try {
      const err = await thrown(repo("locked", "l"));
      expect((err as { code?: string }).code).toBe("P1008");
      expect(storageFailureOf(err)).toBe("busy");
    } finally {
      unlock();
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
