/**
 * Branch freshness on a real runtime: the ref watcher notices main moving (no polling), commits
 * are reported with provenance (and supersession after an amend), and trouble with a lane's
 * branch or worktree (main renamed, worktree removed by hand, detached HEAD) is a typed event
 * with a failure class for that lane only.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { git } from "../git/git";
import { commitFile, initRepo, makeTempDir } from "../git/git.testing";
import { COMMIT, eventually, laneEvents, ofType, SH, tellWorker } from "../recovery/lane-fixtures.testing";
import { isTerminal, runtimePerTest, shellPacket, waitForLane } from "../testing/runtime-harness";

describe("freshness", () => {
  const h = runtimePerTest({ workerCap: 4 });

  it("a lane falls behind when main gets a commit: the ref watcher notices, nothing polls", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH(`echo x > x.txt && git add x.txt && ${COMMIT} -m "lane work"`)));
    await waitForLane(h.rt, lane.id, isTerminal);
    const commit = await eventually(h.rt, lane.id, "lane.commit.created");
    expect(commit.payload).toMatchObject({
      subject: "lane work",
      branch: lane.branch,
      worktree: lane.worktreePath,
      author: "Worker <worker@lane.invalid>",
      files: ["x.txt"],
      supersedes: [],
      rewrite: false,
    });
    expect(commit.payload.parents).toHaveLength(1);
    await eventually(h.rt, lane.id, "branch.freshness", (e) => e.payload.ahead === 1 && e.payload.behind === 0);
    const polls = h.rt.freshness.stats.pollScans;

    const t0 = Date.now();
    const fix = await commitFile(h.repoPath, "main.txt", "main moves\n", "main moves on");
    const stale = await eventually(h.rt, lane.id, "branch.stale_against_main", (e) => e.payload.behind === 1, 10_000);
    const noticedMs = Date.now() - t0;
    expect(stale.payload).toMatchObject({ ahead: 1, behind: 1, baseMoved: true, baseHead: fix, trigger: "watch", missing: [{ sha: fix, subject: "main moves on" }] });
    expect(h.rt.freshness.stats.pollScans).toBe(polls); // the safety poll (30 s) never ran
    expect(h.rt.freshness.stats.watchScans).toBeGreaterThan(0);
    console.info(`[freshness] main commit → branch.stale_against_main in ${noticedMs} ms`);

    const f = await h.rt.freshness.assess(lane.id, "test");
    expect(f).toMatchObject({ stale: true, behind: 1, ahead: 1, baseMoved: true, worktree: "ok", problem: null, missing: [{ sha: fix }] });
    expect(await h.rt.lanes.get(lane.id)).toMatchObject({ behind: 1, baseMoved: true, blocked: null });
  });

  it("an amended commit supersedes the one it replaced", async () => {
    const script = `echo a > a.txt && git add a.txt && ${COMMIT} -m "first try" && read go && echo better > a.txt && ${COMMIT} --amend -am "second try"`;
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH(script)));
    const first = await eventually(h.rt, lane.id, "lane.commit.created", (e) => e.payload.subject === "first try");
    await tellWorker(h.rt, lane.id, "go");
    const second = await eventually(h.rt, lane.id, "lane.commit.created", (e) => e.payload.subject === "second try");
    expect(second.payload).toMatchObject({ supersedes: [first.payload.sha], rewrite: true, files: ["a.txt"] });
  });

  it("main renamed: each lane on it gets a base_missing problem; a lane of another repo is not touched", async () => {
    const other = await makeTempDir("laneboard-other-");
    try {
      await initRepo(other.dir);
      const otherRepo = await h.rt.repos.register({ path: other.dir });
      const a = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
      const b = await h.rt.lanes.create(shellPacket(otherRepo.id, ["true"]));
      await waitForLane(h.rt, a.id, isTerminal);
      await waitForLane(h.rt, b.id, isTerminal);
      await eventually(h.rt, a.id, "branch.freshness");
      await eventually(h.rt, b.id, "branch.freshness");

      await git(["branch", "-m", "main", "trunk"], { cwd: h.repoPath });
      const problem = await eventually(h.rt, a.id, "branch.problem", (e) => e.payload.problem === "base_missing", 10_000);
      expect(problem.payload).toMatchObject({ failureClass: "workspace_mismatch", operation: "freshness:watch" });
      expect((await h.rt.freshness.assess(a.id)).problem).toMatchObject({ problem: "base_missing" });
      await expect(h.rt.merge.merge(a.id, { force: true })).rejects.toMatchObject({ code: "conflict" });
      expect(ofType(await laneEvents(h.rt, b.id), "branch.problem")).toEqual([]);
      expect((await h.rt.freshness.assess(b.id)).problem).toBeNull();
    } finally {
      await other.cleanup();
    }
  });

  it("a worktree removed by hand is a worktree_missing problem of that lane only", async () => {
    const a = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    const b = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    await waitForLane(h.rt, a.id, isTerminal);
    await waitForLane(h.rt, b.id, isTerminal);
    await fs.rm(a.worktreePath, { recursive: true, force: true });
    const f = await h.rt.freshness.assess(a.id, "test");
    expect(f).toMatchObject({ worktree: "missing", problem: { problem: "worktree_missing", failureClass: "workspace_mismatch" } });
    const [event] = ofType(await laneEvents(h.rt, a.id), "branch.problem");
    expect(event?.payload).toMatchObject({ problem: "worktree_missing", failureClass: "workspace_mismatch" });
    expect((await h.rt.freshness.assess(b.id)).worktree).toBe("ok");
    expect(ofType(await laneEvents(h.rt, b.id), "branch.problem")).toEqual([]);
  });

  it("a worker that leaves its worktree on a detached HEAD fails at its checks with workspace_mismatch; the other lane goes green", async () => {
    const detach = await h.rt.lanes.create(
      shellPacket(h.repoId, SH(`git checkout -q --detach && echo d > d.txt && git add d.txt && ${COMMIT} -m "on detached HEAD"`), {
        acceptance: [{ level: "targeted", argv: ["test", "-f", "d.txt"] }],
      }),
    );
    const fine = await h.rt.lanes.create(shellPacket(h.repoId, ["true"], { acceptance: [{ level: "targeted", argv: ["true"] }] }));
    const done = await waitForLane(h.rt, detach.id, isTerminal);
    expect(done.state).toBe("failed");
    const events = await laneEvents(h.rt, detach.id);
    expect(ofType(events, "lane.failed")[0]?.payload).toMatchObject({ failureClass: "workspace_mismatch", failureReason: "detached_head", role: "check" });
    expect(ofType(events, "branch.problem")[0]?.payload).toMatchObject({ problem: "detached_head", failureClass: "workspace_mismatch" });
    expect(ofType(events, "branch.workspace_mismatch")[0]?.payload).toMatchObject({ expected: `branch ${detach.branch}` });
    expect(ofType(events, "check.started")).toEqual([]); // the check never ran against the wrong HEAD
    expect((await waitForLane(h.rt, fine.id, isTerminal)).state).toBe("finished");
    expect(ofType(await laneEvents(h.rt, fine.id), "branch.problem")).toEqual([]);
    expect(path.isAbsolute(detach.worktreePath)).toBe(true);
  });
});
