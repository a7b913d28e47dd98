/**
 * Freshness at boot over many settled lanes with real branches and worktrees: every lane gets the
 * answer git gives, while git is asked once per distinct (base, head) commit pair, not once per
 * lane; and a restart announces neither a problem nor a commit the event log already holds.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBus } from "../events/event-bus";
import { EventLog } from "../events/event-log";
import { aheadBehind, createWorktree, listWorktrees, worktreeState } from "../git/git";
import { commitFile, initRepo, makeTempDir } from "../git/git.testing";
import { closeDatabase, openDatabase, type Db } from "../store/db";
import { seedLanes } from "../testing/seed-lanes";
import { FreshnessTracker } from "./freshness";

describe("freshness at boot", () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let db: Db;
  let events: EventLog;
  let repo: string;
  let ids: string[];
  const repoId = "boot-repo";
  /** Lanes 0–19: no commits of their own; 20–29: one commit each; 30–39: branch never created. */
  const committed = (i: number) => i >= 20 && i < 30;
  const missing = (i: number) => i >= 30;

  const count = async (type: string) => db.laneEvent.count({ where: { type } });

  beforeAll(async () => {
    tmp = await makeTempDir("laneboard-freshness-boot-");
    repo = await initRepo(path.join(tmp.dir, "repo"));
    await commitFile(repo, "a.txt", "a\n", "add a");
    db = await openDatabase(path.join(tmp.dir, "data"));
    events = new EventLog(db, new EventBus());
    await db.repo.create({ data: { id: repoId, path: repo, name: "boot", mainBranch: "main" } });
    ids = await seedLanes(db, { repoId, count: 40, worktreeRoot: path.join(tmp.dir, "wt"), prefix: "boot" });
    const lanes = await db.lane.findMany({ orderBy: { createdAt: "asc" } });
    for (const [i, lane] of lanes.entries()) {
      if (missing(i)) continue;
      const { baseSha } = await createWorktree({ repoPath: repo, worktreePath: lane.worktreePath, branch: lane.branch, base: "main" });
      await db.lane.update({ where: { id: lane.id }, data: { baseSha, ahead: null, behind: null } });
      if (committed(i)) await commitFile(lane.worktreePath, `lane-${i}.txt`, `${i}\n`, `lane ${i} work`);
    }
  }, 120_000);

  afterAll(async () => {
    await closeDatabase(db);
    await tmp.cleanup();
  });

  it("answers every lane as git does, asking git once per distinct commit pair", async () => {
    const tracker = new FreshnessTracker({ db, events, safetyPollMs: 3_600_000 });
    await tracker.refreshAll("boot");
    await tracker.stop();
    for (const [i, id] of ids.entries()) {
      const f = tracker.peek(id);
      if (missing(i)) {
        expect(f?.problem?.problem, id).toBe("branch_missing");
        continue;
      }
      const lane = (await db.lane.findUnique({ where: { id } }))!;
      expect(f, id).toMatchObject({ ...(await aheadBehind(repo, "main", lane.branch)), worktree: "ok", problem: null, stale: false });
    }
    // 20 lanes at main's own commit need no git at all; each committed lane is a pair of its own.
    expect(tracker.stats.pairs.computed).toBe(10);
    expect(await count("lane.commit.created")).toBe(10);
    expect(await count("branch.problem")).toBe(10);
  });

  it("after main moves, a restart asks git once for all lanes still at the old base, and repeats no announcement", async () => {
    await commitFile(repo, "m.txt", "m\n", "main moves");
    const tracker = new FreshnessTracker({ db, events, safetyPollMs: 3_600_000 });
    await tracker.refreshAll("boot");
    await tracker.stop();
    // One pair for the 20 lanes without commits (old main vs new main), one per committed lane.
    expect(tracker.stats.pairs.computed).toBe(11);
    expect(tracker.stats.pairs.hits).toBe(19);
    for (const [i, id] of ids.entries()) if (!missing(i)) expect(tracker.peek(id), id).toMatchObject({ behind: 1, stale: true, baseMoved: true });
    expect(await count("lane.commit.created")).toBe(10);
    expect(await count("branch.problem")).toBe(10);
    expect(await count("branch.stale_against_main")).toBe(30);
  });

  it("settled() resolves once a refresh started in the background (as the runtime starts the boot one) has answered every lane", async () => {
    const tracker = new FreshnessTracker({ db, events, safetyPollMs: 3_600_000 });
    try {
      await tracker.settled(); // nothing running: resolves at once
      void tracker.refreshAll("boot");
      await tracker.settled();
      for (const id of ids) expect(tracker.peek(id), id).not.toBeNull();
      expect(tracker.stats.refreshes).toBe(ids.length);
    } finally {
      await tracker.stop();
    }
  });
});

describe("seeded lanes with their repository", () => {
  it("have branches and worktrees git itself lists and reads, and freshness finds nothing wrong", async () => {
    const tmp = await makeTempDir("laneboard-seed-git-");
    try {
      const repo = await initRepo(path.join(tmp.dir, "repo"));
      await commitFile(repo, "a.txt", "a\n", "add a");
      const db = await openDatabase(path.join(tmp.dir, "data"));
      try {
        await db.repo.create({ data: { id: "r", path: repo, name: "r", mainBranch: "main" } });
        const ids = await seedLanes(db, { repoId: "r", count: 5, worktreeRoot: path.join(tmp.dir, "wt"), prefix: "s", repoPath: repo });
        const lanes = await db.lane.findMany({ orderBy: { createdAt: "asc" } });
        expect((await listWorktrees(repo)).filter((w) => !w.main).map((w) => w.branch)).toEqual(lanes.map((l) => l.branch));
        for (const l of lanes) expect(await worktreeState(l.worktreePath)).toMatchObject({ kind: "branch", branch: l.branch });
        const tracker = new FreshnessTracker({ db, events: new EventLog(db, new EventBus()), safetyPollMs: 3_600_000 });
        await tracker.refreshAll();
        await tracker.stop();
        for (const id of ids) expect(tracker.peek(id)).toMatchObject({ ahead: 0, behind: 0, worktree: "ok", problem: null });
      } finally {
        await closeDatabase(db);
      }
    } finally {
      await tmp.cleanup();
    }
  });
});
