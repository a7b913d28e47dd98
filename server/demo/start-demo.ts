/**
 * The embedded default: with no repo registered, `npm start` brings up a demo — a real git
 * repository (./create-demo-repo.ts) registered like any other, and five lanes run by the
 * deterministic `script` engine (./demo-lane-packets.ts). `--no-demo` skips this (the caller
 * checks the config).
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { LaneView, RepoView } from "@/lib/api";
import type { TaskPacketInput } from "@/lib/task-packet";
import { branchExists } from "../git/repo";
import { git } from "../git/runner";
import { createDemoRepo, DEMO_GIT_IDENTITY_ARGS, isDemoRepo } from "./create-demo-repo";
import { DEMO_BRANCHES, demoLanePackets } from "./demo-lane-packets";

/** The services the demo needs (implemented by the runtime's RepoService and LaneService). */
export interface DemoDeps {
  /** The data directory; the demo repository lives at `<dataDir>/demo-repo`. */
  dataDir: string;
  repos: { list(): Promise<RepoView[]>; register(b: { path: string }): Promise<RepoView> };
  lanes: { create(p: TaskPacketInput): Promise<LaneView> };
}

/** Longest wait for the behind-lane's branch to appear before main moves on anyway, in ms. */
const BRANCH_WAIT_MS = 30_000;
const BRANCH_POLL_MS = 100;

/**
 * Start the demo unless a repo is already registered.
 *
 * Steps: (re)create `<dataDir>/demo-repo` — a demo repository left from an earlier run whose
 * registration is gone (e.g. the database was reset) is replaced, since its lane branches would
 * collide — register it, create the lanes in order, and right after the first lane
 * (`lane/docs-usage`) exists, commit a README change on `main` so that lane is behind main by 1.
 *
 * @returns the repo id and lane ids, or null if any repo was already registered (nothing done).
 * @throws whatever the services throw, and AppError `conflict` if `<dataDir>/demo-repo` holds
 *   something that is not a demo repository (it is never deleted then).
 */
export async function startDemo(rt: DemoDeps): Promise<{ repoId: string; laneIds: string[] } | null> {
  if ((await rt.repos.list()).length > 0) return null;
  const dir = path.join(rt.dataDir, "demo-repo");
  if (await isDemoRepo(dir)) await fs.rm(dir, { recursive: true, force: true });
  const repoPath = await createDemoRepo(dir);
  const repo = await rt.repos.register({ path: repoPath });

  const laneIds: string[] = [];
  for (const p of demoLanePackets(repo.id)) {
    const lane = await rt.lanes.create(p);
    laneIds.push(lane.id);
    if (p.branch === DEMO_BRANCHES.behind) {
      await waitForBranch(repoPath, p.branch);
      await advanceMain(repoPath);
    }
  }
  return { repoId: repo.id, laneIds };
}

/**
 * Wait until `branch` exists. Lane creation normally makes the worktree (and so the branch)
 * before it returns and this returns at once; the bounded poll only covers a lane service that
 * creates worktrees when the lane starts, so main still moves on after the branch point.
 */
async function waitForBranch(repoPath: string, branch: string): Promise<void> {
  const deadline = Date.now() + BRANCH_WAIT_MS;
  while (!(await branchExists(repoPath, branch)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, BRANCH_POLL_MS));
  }
}

/**
 * Make a real commit on `main` in the demo repository's own work tree (which has `main`
 * checked out): a README note. Returns the new commit's SHA.
 */
export async function advanceMain(repoPath: string): Promise<string> {
  const readme = path.join(repoPath, "README.md");
  await fs.appendFile(readme, "\n## Changelog\n\n- main moved on after `lane/docs-usage` branched, so that lane is behind main.\n");
  await git(["add", "--", "README.md"], { cwd: repoPath });
  await git([...DEMO_GIT_IDENTITY_ARGS, "commit", "--quiet", "-m", "README: add a changelog"], { cwd: repoPath });
  return (await git(["rev-parse", "HEAD"], { cwd: repoPath })).stdout;
}
