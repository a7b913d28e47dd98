/**
 * An exit the database refuses is kept and recorded once it can be, and the warning says why as
 * SQLite said it: a database locked by another connection (a second writer holding it past the
 * busy timeout, as a seeding test or a long migration does) is not called a full disk.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, expect, it } from "vitest";
import { closeDatabase, databaseFile, openDatabase, type Db } from "../store/db";
import { ExitRecorder, type PendingExit } from "./exit-recorder";
import { emptyStreamState } from "./log-files";

let dir: string;
let db: Db;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-exit-recorder-"));
  db = await openDatabase(dir);
});
afterEach(async () => {
  await closeDatabase(db);
  await rm(dir, { recursive: true, force: true });
});

it("keeps an exit refused with SQLITE_BUSY, says the database is locked (not full), and records it once the lock is gone", async () => {
  await db.process.create({ data: { id: "p1", role: "worker", command: "[]", cwd: "/", env: "{}", status: "running", logDir: dir, stdoutPath: "", stderrPath: "" } });
  const warnings: string[] = [];
  const announced: PendingExit[] = [];
  let onAnnounce!: () => void;
  const announcedOnce = new Promise<void>((r) => (onAnnounce = r));
  const recorder = new ExitRecorder(db, async (p) => (announced.push(p), onAnnounce()), (m) => warnings.push(m), () => undefined, 50);
  const exit = { processId: "p1", laneId: null, role: "worker", status: "exited" as const, exitCode: 3, signal: null };

  const other = new Database(databaseFile(dir));
  other.exec("BEGIN IMMEDIATE"); // a second writer holds the lock past the busy timeout
  try {
    await recorder.record({ exit, endedAt: new Date(), state: { stdout: emptyStreamState(), stderr: emptyStreamState() }, lostReason: null });
    expect(recorder.pending).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/locked by another connection.*SQLITE_BUSY/);
    expect(warnings[0]).not.toMatch(/full/);
    expect(announced).toEqual([]);
  } finally {
    other.exec("ROLLBACK");
    other.close();
  }
  await announcedOnce;
  await expect.poll(() => recorder.pending).toBe(0); // dropped from the pending list right after its announcement
  recorder.stop();
  expect(announced.map((p) => p.exit)).toEqual([exit]);
  expect(await db.process.findUniqueOrThrow({ where: { id: "p1" } })).toMatchObject({ status: "exited", exitCode: 3 });
});
