/**
 * An exit the database refuses is kept and recorded once it can be, and the warning says why as
 * SQLite said it: a database locked by another connection (a second writer holding it past the
 * busy timeout, as a seeding test or a long migration does) is not called a full disk.
 */
import { expect, it } from "vitest";
import { databasePerTest, lockDatabase } from "../store/db.testing";
import { ExitRecorder, type PendingExit } from "./exit-recorder";
import { emptyStreamState } from "./log-files";

const store = databasePerTest("laneboard-exit-recorder-");

it("keeps an exit refused with SQLITE_BUSY, says the database is locked (not full), and records it once the lock is gone", async () => {
  const { db, dir } = store;
  await db.process.create({ data: { id: "p1", role: "worker", command: "[]", cwd: "/", env: "{}", status: "running", logDir: dir, stdoutPath: "", stderrPath: "" } });
  const warnings: string[] = [];
  const announced: PendingExit[] = [];
  let onAnnounce!: () => void;
  const announcedOnce = new Promise<void>((r) => (onAnnounce = r));
  const recorder = new ExitRecorder(db, async (p) => (announced.push(p), onAnnounce()), (m) => warnings.push(m), () => undefined, 50);
  const exit = { processId: "p1", laneId: null, role: "worker", status: "exited" as const, exitCode: 3, signal: null };

  const unlock = lockDatabase(dir); // a second writer holds the lock past the busy timeout
  try {
    await recorder.record({ exit, endedAt: new Date(), state: { stdout: emptyStreamState(), stderr: emptyStreamState() }, lostReason: null });
    expect(recorder.pending).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/locked by another connection.*SQLITE_BUSY/);
    expect(warnings[0]).not.toMatch(/full/);
    expect(announced).toEqual([]);
  } finally {
    unlock();
  }
  await announcedOnce;
  await expect.poll(() => recorder.pending).toBe(0); // dropped from the pending list right after its announcement
  recorder.stop();
  expect(announced.map((p) => p.exit)).toEqual([exit]);
  expect(await db.process.findUniqueOrThrow({ where: { id: "p1" } })).toMatchObject({ status: "exited", exitCode: 3 });
});
