/**
 * A PostgreSQL outage against a real server of the test's own (it is stopped and started, so it
 * cannot be the suite's shared one): work begun while the server is away stalls and completes when
 * it is back — transactions too — while a transaction cut off midway fails as a whole.
 * Needs Debian's `postgresql` package (scripts/lib/throwaway-postgres.ts).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startThrowawayPostgres, type ThrowawayPostgres } from "@/scripts/lib/throwaway-postgres";
import { onPostgres } from "../testing/test-database";
import { closeDatabase, isConnectionLost, openDatabase, type Db } from "./db";
import { CONNECT_TIMEOUT_MS } from "./postgres";

/** Settles to "pending" while `p` has not settled, else to what it settled with. */
const peek = <T>(p: Promise<T>): Promise<T | Error | "pending"> =>
  Promise.race([p.catch((e: unknown) => e as Error), new Promise<"pending">((r) => setImmediate(() => r("pending")))]);

// It runs a server of its own, so the suite's PostgreSQL run would only repeat the SQLite run.
describe.skipIf(onPostgres())("PostgreSQL outage", () => {
  let server: ThrowawayPostgres;
  let dataDir: string;
  let url: string;
  let db: Db;
  let seq = 0;
  const warn = vi.spyOn(console, "warn");
  beforeAll(async () => {
    server = await startThrowawayPostgres();
    dataDir = await mkdtemp(path.join(os.tmpdir(), "laneboard-outage-"));
    url = await server.createDatabase("outage");
    db = await openDatabase(dataDir, { databaseUrl: url });
  });
  afterAll(async () => {
    if (db) await closeDatabase(db);
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  /** Whether the server is down (a failed test must not leave it down for the next). */
  let down = false;
  const stopServer = async () => {
    down = true;
    await server.stopServer();
  };
  const startServer = async () => {
    await server.start();
    down = false;
  };
  afterEach(async () => {
    warn.mockClear();
    if (down) await startServer();
  });

  const newRepo = (name: string) => db.repo.create({ data: { path: `/r/${name}-${++seq}`, name, mainBranch: "main" } });
  async function rows(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    const client = new pg.Client(url);
    await client.connect();
    try {
      return (await client.query(sql, params)).rows;
    } finally {
      await client.end();
    }
  }
  /** Resolves once the store has said it is waiting for the server (the stall has begun). */
  async function stallTold(): Promise<void> {
    const told = () => warn.mock.calls.some(([m]) => typeof m === "string" && m.startsWith("[store] PostgreSQL is unreachable"));
    await vi.waitFor(() => expect(told()).toBe(true), { timeout: 30_000, interval: 50 });
  }

  it("stalls transactions begun during an outage longer than a connection attempt, and commits them when the server is back", async () => {
    const repo = await newRepo("before");
    await stopServer();
    // An interactive transaction (as a lane transition plus its event would be) and a batch one
    // (as the scheduler's usage save is), both begun while nothing listens.
    const interactive = db.$transaction(async (tx) => {
      const made = await tx.repo.create({ data: { path: `/r/during-${++seq}`, name: "during", mainBranch: "main" } });
      await tx.repo.update({ where: { id: repo.id }, data: { name: "touched" } });
      return made.id;
    });
    const batch = db.$transaction([db.repo.update({ where: { id: repo.id }, data: { mainBranch: "trunk" } }), db.repo.create({ data: { path: `/r/batch-${++seq}`, name: "batch", mainBranch: "main" } })]);
    const settled = (p: Promise<unknown>) => p.then(() => undefined, () => undefined);
    // Either the store says it waits for the server, or a transaction has already settled (and
    // the next lines say how).
    await Promise.race([stallTold(), settled(interactive), settled(batch)]);
    // The outage outlasts a connection attempt (CONNECT_TIMEOUT_MS, which was also how long a
    // transaction waited to start): it is the scenario, not a wait for an event.
    await new Promise((r) => setTimeout(r, CONNECT_TIMEOUT_MS + 2000));
    expect(await peek(interactive)).toBe("pending");
    expect(await peek(batch)).toBe("pending");
    await startServer();
    const madeId = await interactive;
    const [, batchMade] = await batch;
    expect(await rows(`SELECT "name", "mainBranch" FROM "Repo" WHERE "id" = $1`, [repo.id])).toEqual([{ name: "touched", mainBranch: "trunk" }]);
    expect(await rows(`SELECT "name" FROM "Repo" WHERE "id" IN ($1, $2) ORDER BY "name"`, [madeId, batchMade.id])).toEqual([{ name: "batch" }, { name: "during" }]);
  });

  it("fails a transaction whose connection dies midway as a whole, without retrying its statements, and leaves none of its writes", async () => {
    const repo = await newRepo("midway");
    let stopped!: () => void;
    const serverGone = new Promise<void>((r) => (stopped = r));
    let inside!: () => void;
    const begun = new Promise<void>((r) => (inside = r));
    const tx = db.$transaction(
      async (t) => {
        await t.repo.update({ where: { id: repo.id }, data: { name: "half" } });
        inside();
        await serverGone;
        await t.repo.update({ where: { id: repo.id }, data: { mainBranch: "half" } });
      },
      // Long enough that only the outage, not Prisma's interactive timeout, can end it.
      { timeout: 120_000 },
    );
    const failed = tx.then(
      () => null,
      (e: unknown) => e,
    );
    await begun;
    await stopServer();
    stopped();
    const err = await failed;
    expect(err, "the transaction must fail, not stall or commit").not.toBeNull();
    expect(isConnectionLost(err)).toBe(true);
    await startServer();
    // Nothing of it was committed, and the store works again (the caller may retry it).
    expect(await db.repo.findUniqueOrThrow({ where: { id: repo.id }, select: { name: true, mainBranch: true } })).toEqual({ name: "midway", mainBranch: "main" });
    await db.$transaction([db.repo.update({ where: { id: repo.id }, data: { name: "retried" } })]);
    expect(await rows(`SELECT "name" FROM "Repo" WHERE "id" = $1`, [repo.id])).toEqual([{ name: "retried" }]);
  });
});
