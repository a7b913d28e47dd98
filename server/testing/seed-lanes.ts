/**
 * Many lanes at once for scale tests, the board benchmark and the 1,000-lane e2e run: rows written
 * straight into the database (Lane, Process, LaneEvent, Worker — the shapes the runtime writes),
 * without worktrees or processes, so thousands of settled lanes exist in about a second. The mix
 * is what a busy board holds: mostly finished and green, some red, some killed. Test helper only.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { git } from "../git/runner";
import { gitCommonDir } from "../git/refs";
import type { Db } from "../store/db";

export interface SeedOptions {
  repoId: string;
  count: number;
  /** Directory the (not created) worktree paths point into. */
  worktreeRoot: string;
  /** Branch prefix, so several seedings of one repo do not collide. */
  prefix?: string;
  /**
   * The repository's path, to give each lane what a real settled lane has: its branch (at the
   * head of `main`, created with one `git update-ref --stdin`) and its worktree, registered as
   * `git worktree add --no-checkout` registers one (the admin files in `.git/worktrees/<id>` and
   * the worktree's `.git` file, gitrepository-layout(5)) without checking files out, so thousands
   * exist in seconds and git, the freshness tracker and `git worktree list` see them as worktrees.
   * Without it the lanes' branches and worktrees do not exist (a board of lanes cleaned up by hand).
   */
  repoPath?: string;
}

const WORDS = ["parser", "login", "cache", "search", "billing", "export", "upload", "metrics", "retry", "queue", "theme", "router"];
const VERBS = ["Fix", "Add", "Refactor", "Speed up", "Document", "Test"];

/** Insert `count` settled lanes with their events; returns their ids (oldest first). */
export async function seedLanes(db: Db, { repoId, count, worktreeRoot, prefix = "seed", repoPath }: SeedOptions): Promise<string[]> {
  const now = Date.now();
  const baseSha = repoPath ? (await git(["rev-parse", "--verify", "refs/heads/main^{commit}"], { cwd: repoPath })).stdout.trim() : null;
  const lanes = [];
  const processes = [];
  const workers = [];
  const events: { laneId: string; repoId: string; type: string; version: number; payload: string; at: Date }[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${String(i).padStart(6, "0")}`;
    const kind = i % 10 < 7 ? "finished" : i % 10 < 9 ? "failed" : "killed";
    const at = new Date(now - (count - i) * 1000);
    const branch = `lane/${prefix}-${WORDS[i % WORDS.length]}-${i}`;
    const check = { level: "targeted", status: kind === "failed" ? "red" : "green", command: ["node", "--test"], exitCode: kind === "failed" ? 1 : 0, durationMs: 800, at: at.toISOString() };
    lanes.push({
      id, repoId, slug: branch.slice(5), objective: `${VERBS[i % VERBS.length]} the ${WORDS[(i * 7) % WORDS.length]} (${i})`, branch, baseBranch: "main",
      worktreePath: `${worktreeRoot}/${id}`, engine: "script", packet: JSON.stringify({ objective: `seeded ${i}`, repo: repoId, baseBranch: "main", branch, worker: { engine: "script", script: [{ op: "exit", code: 0 }] } }), state: kind, attempt: 1, lastExitCode: kind === "killed" ? null : 0,
      checks: kind === "killed" ? "{}" : JSON.stringify([{ index: 0, ...check, argv: check.command, startedAt: at.toISOString(), endedAt: at.toISOString() }]),
      ahead: baseSha ? 0 : 1, behind: 0, baseSha, createdAt: at, startedAt: at, endedAt: at, queuedAt: at,
    });
    processes.push({ id: `${id}-p`, laneId: id, role: "worker", command: "[]", cwd: "/", status: kind === "killed" ? "killed" : "exited", exitCode: kind === "killed" ? null : 0, logDir: "/nonexistent", stdoutPath: "/nonexistent/o", stderrPath: "/nonexistent/e", createdAt: at });
    workers.push({ id: `${id}-w`, laneId: id, engine: "script", state: kind === "killed" ? "killed" : "finished", attempt: 1, processId: `${id}-p`, createdAt: at, endedAt: at });
    const ev = (type: string, payload: unknown) => events.push({ laneId: id, repoId, type, version: 1, payload: JSON.stringify(payload), at });
    ev("lane.created", { objective: "seeded", branch, baseBranch: "main", engine: "script", worktreePath: `${worktreeRoot}/${id}` });
    const moved = (from: string, to: string) => ev("lane.state_changed", { from, to });
    moved("queued", "starting");
    ev("lane.started", { workerId: `${id}-w`, processId: `${id}-p`, pid: 1, attempt: 1 });
    moved("starting", "running");
    if (kind !== "killed") moved("running", "checking");
    moved(kind === "killed" ? "running" : "checking", kind);
    if (kind === "finished") ev("lane.finished", { exitCode: 0, signal: null });
    if (kind === "failed") {
      ev("lane.red", { ...check, failureClass: "test" });
      ev("lane.failed", { exitCode: 0, signal: null, failureClass: "test", reason: "targeted check red", role: "check" });
    }
    if (kind === "killed") ev("lane.killed", { by: "seed", signal: "SIGTERM", graceMs: 0 });
  }
  if (repoPath && baseSha) await createBranchesAndWorktrees(repoPath, baseSha, lanes);
  await db.lane.createMany({ data: lanes });
  await db.process.createMany({ data: processes });
  await db.worker.createMany({ data: workers });
  await db.laneEvent.createMany({ data: events });
  return lanes.map((l) => l.id);
}

/** Branches at `baseSha` and registered worktrees (no checkout) for seeded lanes; see {@link SeedOptions.repoPath}. */
async function createBranchesAndWorktrees(repoPath: string, baseSha: string, lanes: { id: string; branch: string; worktreePath: string }[]): Promise<void> {
  await git(["update-ref", "--stdin"], { cwd: repoPath, input: lanes.map((l) => `create refs/heads/${l.branch} ${baseSha}\n`).join("") });
  const common = await gitCommonDir(repoPath);
  for (const lane of lanes) {
    const admin = path.join(common, "worktrees", lane.id);
    await fs.mkdir(admin, { recursive: true });
    await fs.mkdir(lane.worktreePath, { recursive: true });
    await fs.writeFile(path.join(admin, "HEAD"), `ref: refs/heads/${lane.branch}\n`);
    await fs.writeFile(path.join(admin, "commondir"), "../..\n");
    await fs.writeFile(path.join(admin, "gitdir"), `${path.join(lane.worktreePath, ".git")}\n`);
    await fs.writeFile(path.join(lane.worktreePath, ".git"), `gitdir: ${admin}\n`);
  }
}
