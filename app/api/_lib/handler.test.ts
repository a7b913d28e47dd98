/**
 * errorResponse: storage that refused for a passing reason is a 503 (a full disk `disk_full`, a
 * database locked by another connection `unavailable`), never a 500; a genuine fault is a 500
 * that reveals nothing and carries the request id. Errors are the real drivers' errors.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { closeDatabase, databaseFile, openDatabase, type Db } from "@/server/store/db";
import { errorResponse } from "./handler";

let dir: string;
let db: Db;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-handler-"));
  db = await openDatabase(dir);
});
afterAll(async () => {
  await closeDatabase(db);
  await rm(dir, { recursive: true, force: true });
});

const thrown = async (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.fail("expected a rejection"), (err: unknown) => err);
const body = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; requestId?: string } }).error;

it("answers a database locked by another connection 503 unavailable, a full one 503 disk_full, and a fault 500 with the request id", async () => {
  const other = new Database(databaseFile(dir));
  other.exec("BEGIN IMMEDIATE");
  let busy: unknown;
  try {
    busy = await thrown(db.repo.create({ data: { path: "/r/a", name: "a", mainBranch: "main" } }));
  } finally {
    other.exec("ROLLBACK");
    other.close();
  }
  const locked = errorResponse(busy);
  expect(locked.status).toBe(503);
  expect(await body(locked)).toMatchObject({ code: "unavailable", message: expect.stringContaining("busy") });

  const [{ page_count } = { page_count: 0n }] = await db.$queryRawUnsafe<{ page_count: bigint }[]>("PRAGMA page_count");
  await db.$executeRawUnsafe(`PRAGMA max_page_count = ${Number(page_count) + 1}`);
  const full = errorResponse(await thrown(db.repo.create({ data: { path: "/r/b", name: "x".repeat(200_000), mainBranch: "main" } })));
  await db.$executeRawUnsafe("PRAGMA max_page_count = 1073741823");
  expect(full.status).toBe(503);
  expect((await body(full)).code).toBe("disk_full");

  const req = new Request("http://test/api/v1/board", { headers: { "x-request-id": "req-7" } });
  const fault = errorResponse(new TypeError("x is undefined"), req);
  expect(fault.status).toBe(500);
  expect(await body(fault)).toEqual({ code: "internal", message: "internal error", requestId: "req-7" });
});
