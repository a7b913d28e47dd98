import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { LaneView, RepoView } from "@/lib/api";
import { TaskPacketSchema, type TaskPacketInput } from "@/lib/task-packet";
import { aheadBehind, branchExists, inspectRepo } from "../git/repo";
import { git } from "../git/runner";
import { tempDirPerTest } from "../git/git.testing";
import { createWorktree } from "../git/worktree";
import { DEMO_BRANCHES } from "./demo-lane-packets";
import { startDemo, type DemoDeps } from "./start-demo";

const tmp = tempDirPerTest();

/**
 * A minimal stand-in for the runtime's RepoService and LaneService with the same contract for
 * what the demo relies on: register validates with the real inspectRepo, create parses the
 * packet and makes the lane's real worktree and branch before it returns.
 */
function services(dataDir: string) {
  const repos: RepoView[] = [];
  const lanes: { view: LaneView; packet: TaskPacketInput }[] = [];
  const deps: DemoDeps = {
    dataDir,
    repos: {
      list: async () => [...repos],
      register: async ({ path: p }) => {
        const info = await inspectRepo(p);
        const view: RepoView = { id: `repo-${repos.length + 1}`, path: info.root, name: info.name, mainBranch: info.mainBranch, createdAt: new Date().toISOString() };
        repos.push(view);
        return view;
      },
    },
    lanes: {
      create: async (input) => {
        const packet = TaskPacketSchema.parse(input);
        const repo = repos.find((r) => r.id === packet.repo);
        if (!repo) throw new Error(`unknown repo ${packet.repo}`);
        const slug = packet.branch.replace(/\//g, "-");
        const worktreePath = path.join(dataDir, "worktrees", `${lanes.length}-${slug}`);
        await createWorktree({ repoPath: repo.path, worktreePath, branch: packet.branch, base: packet.baseBranch ?? repo.mainBranch });
        const view = { id: `lane-${lanes.length + 1}`, repoId: repo.id, branch: packet.branch, worktreePath } as LaneView;
        lanes.push({ view, packet: input });
        return view;
      },
    },
  };
  return { deps, repos, lanes };
}

describe("startDemo", () => {
  it("registers a demo repo, creates five lanes and leaves only the docs lane behind main", async () => {
    const { deps, repos, lanes } = services(tmp.dir);
    const result = await startDemo(deps);
    expect(result).toEqual({ repoId: "repo-1", laneIds: ["lane-1", "lane-2", "lane-3", "lane-4", "lane-5"] });
    expect(repos[0]!.path).toBe(path.join(tmp.dir, "demo-repo"));
    expect(lanes.map((l) => l.packet.branch)).toEqual([
      DEMO_BRANCHES.behind,
      DEMO_BRANCHES.green,
      DEMO_BRANCHES.red,
      DEMO_BRANCHES.running,
      DEMO_BRANCHES.queued,
    ]);
    const repo = repos[0]!.path;
    expect(await aheadBehind(repo, "main", DEMO_BRANCHES.behind)).toEqual({ ahead: 0, behind: 1 });
    for (const branch of [DEMO_BRANCHES.green, DEMO_BRANCHES.red, DEMO_BRANCHES.running, DEMO_BRANCHES.queued]) {
      expect(await aheadBehind(repo, "main", branch), branch).toEqual({ ahead: 0, behind: 0 });
    }
    expect((await git(["log", "-1", "--format=%s", "main"], { cwd: repo })).stdout).toBe("README: add a changelog");
    expect((await git(["status", "--porcelain"], { cwd: repo })).stdout).toBe("");
  });

  it("does nothing and returns null when a repo is already registered", async () => {
    const { deps, repos, lanes } = services(tmp.dir);
    repos.push({ id: "r0", path: "/somewhere", name: "x", mainBranch: "main", createdAt: "" });
    expect(await startDemo(deps)).toBeNull();
    expect(lanes).toHaveLength(0);
    await expect(fs.access(path.join(tmp.dir, "demo-repo"))).rejects.toThrow();
  });

  it("replaces a demo repo left from an earlier run whose registration is gone", async () => {
    await startDemo(services(tmp.dir).deps);
    const again = services(tmp.dir);
    // Fresh registry over the same data dir: the old lane branches must not collide.
    await fs.rm(path.join(tmp.dir, "worktrees"), { recursive: true });
    const result = await startDemo(again.deps);
    expect(result?.laneIds).toHaveLength(5);
    const repo = again.repos[0]!.path;
    expect(await branchExists(repo, DEMO_BRANCHES.green)).toBe(true);
    expect((await git(["rev-list", "--count", "main"], { cwd: repo })).stdout).toBe("2");
  });

  it("refuses to touch a data dir whose demo-repo is something else", async () => {
    const dir = path.join(tmp.dir, "demo-repo");
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, "mine.txt"), "keep");
    await expect(startDemo(services(tmp.dir).deps)).rejects.toMatchObject({ code: "conflict" });
    expect(await fs.readFile(path.join(dir, "mine.txt"), "utf8")).toBe("keep");
  });
});
