/**
 * LaneReader on a real SQLite database: a repository's path is read once and then kept (every
 * freshness scan of a repository used to read its row again, and once more per lane through a
 * join), and a lane comes with its repository's path.
 */
import { describe, expect, it } from "vitest";
import { databasePerTest } from "../store/db.testing";
import { LaneReader } from "./lane-reads";

const store = databasePerTest("laneboard-lane-reads-");

async function seed() {
  const { db } = store;
  await db.repo.create({ data: { id: "r1", path: "/repos/one", name: "one", mainBranch: "main" } });
  await db.lane.create({
    data: { id: "l1", repoId: "r1", slug: "a", objective: "o", branch: "lane/a", baseBranch: "main", baseSha: null, worktreePath: "/wt/a", engine: "shell", packet: "{}", state: "queued" },
  });
}

describe("LaneReader", () => {
  it("reads a repository's path once: a later read answers from memory, without the database", async () => {
    await seed();
    const reader = new LaneReader(store.db);
    expect(await reader.repo("r1")).toEqual({ path: "/repos/one" });
    // Changed behind its back (a path never changes in use): the kept path shows no query was made.
    await store.db.$executeRawUnsafe(`UPDATE "Repo" SET "path" = '/moved' WHERE "id" = 'r1'`);
    expect(await reader.repo("r1")).toEqual({ path: "/repos/one" });
    expect(await new LaneReader(store.db).repo("r1")).toEqual({ path: "/moved" });
  });

  it("an unknown repository is not remembered as missing: registered later, it is found", async () => {
    await seed();
    const reader = new LaneReader(store.db);
    expect(await reader.repo("r2")).toBeNull();
    await store.db.repo.create({ data: { id: "r2", path: "/repos/two", name: "two", mainBranch: "main" } });
    expect(await reader.repo("r2")).toEqual({ path: "/repos/two" });
  });

  it("a lane comes with its freshness fields and its repository's path; an unknown lane is null", async () => {
    await seed();
    const reader = new LaneReader(store.db);
    expect(await reader.lane("l1")).toEqual({
      id: "l1",
      repoId: "r1",
      branch: "lane/a",
      baseBranch: "main",
      baseSha: null,
      worktreePath: "/wt/a",
      ahead: null,
      behind: null,
      repo: { path: "/repos/one" },
    });
    expect(await reader.lane("nope")).toBeNull();
  });
});
