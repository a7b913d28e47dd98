/**
 * errorResponse: storage that refused for a passing reason is a 503 (a full disk `disk_full`, a
 * database locked by another connection `unavailable`), never a 500; a genuine fault is a 500
 * that reveals nothing and carries the request id. Errors are the real drivers' errors.
 */
import { expect, it } from "vitest";
import { capDatabasePages, databasePerFile, lockDatabase } from "@/server/store/db.testing";
import { errorResponse } from "./handler";

const store = databasePerFile("laneboard-handler-");

const thrown = async (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.fail("expected a rejection"), (err: unknown) => err);
const body = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; requestId?: string } }).error;

it("answers a database locked by another connection 503 unavailable, a full one 503 disk_full, and a fault 500 with the request id", async () => {
  const { db, dir } = store;
  const unlock = lockDatabase(dir);
  let busy: unknown;
  try {
    busy = await thrown(db.repo.create({ data: { path: "/r/a", name: "a", mainBranch: "main" } }));
  } finally {
    unlock();
  }
  const locked = errorResponse(busy);
  expect(locked.status).toBe(503);
  expect(await body(locked)).toMatchObject({ code: "unavailable", message: expect.stringContaining("busy") });

  await capDatabasePages(db, 1);
  const full = errorResponse(await thrown(db.repo.create({ data: { path: "/r/b", name: "x".repeat(200_000), mainBranch: "main" } })));
  await capDatabasePages(db, null);
  expect(full.status).toBe(503);
  expect((await body(full)).code).toBe("disk_full");

  const req = new Request("http://test/api/v1/board", { headers: { "x-request-id": "req-7" } });
  const fault = errorResponse(new TypeError("x is undefined"), req);
  expect(fault.status).toBe(500);
  expect(await body(fault)).toEqual({ code: "internal", message: "internal error", requestId: "req-7" });
});
