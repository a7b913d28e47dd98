import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { TaskPacketSchema, type TaskPacket } from "@/lib/task-packet";
import { commitsBetween } from "../git/repo";
import { tempDirPerFile } from "../git/git.testing";
import { createWorktree } from "../git/worktree";
import { prepareWorker } from "../engines/engine-command";
import { createDemoRepo, DEMO_FILES } from "./create-demo-repo";
import { BUGGY_PRICE_SOURCE, DEMO_BRANCHES, demoLanePackets } from "./demo-lane-packets";

const tmp = tempDirPerFile();
let repo: string;
beforeAll(async () => {
  repo = await createDemoRepo(path.join(tmp.dir, "demo"));
});

const packets = (): TaskPacket[] => demoLanePackets("repo-1").map((p) => TaskPacketSchema.parse(p));
const byBranch = (branch: string): TaskPacket => {
  const p = packets().find((x) => x.branch === branch);
  if (!p) throw new Error(`no demo packet on ${branch}`);
  return p;
};

/**
 * Run a packet the way a lane does: worktree from main, the script agent as a real child
 * process, then its acceptance command in the worktree.
 */
async function runLane(packet: TaskPacket) {
  const slug = packet.branch.replace(/\//g, "-");
  const worktreePath = path.join(tmp.dir, "worktrees", slug);
  await createWorktree({ repoPath: repo, worktreePath, branch: packet.branch, base: "main" });
  const { argv, env } = await prepareWorker(packet.worker, { laneDir: path.join(tmp.dir, "lanes", slug), worktreePath });
  const worker = await execa(argv[0]!, argv.slice(1), { cwd: worktreePath, env, reject: false, all: true });
  const check = packet.acceptance[0]!;
  const acceptance = await execa(check.argv[0]!, check.argv.slice(1), { cwd: worktreePath, reject: false, all: true });
  const commits = await commitsBetween(repo, "main", packet.branch);
  return { worker, acceptance, commits };
}

describe("demoLanePackets", () => {
  it("gives at least five valid script packets on distinct branches of the given repo", () => {
    const all = packets();
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(new Set(all.map((p) => p.branch)).size).toBe(all.length);
    expect(all.map((p) => p.branch)).toEqual(expect.arrayContaining(Object.values(DEMO_BRANCHES)));
    expect(all[0]!.branch).toBe(DEMO_BRANCHES.behind);
    for (const p of all) {
      expect(p.repo).toBe("repo-1");
      expect(p.worker.engine).toBe("script");
      expect(p.acceptance).toEqual([{ level: "targeted", argv: ["node", "--test"], timeoutMs: 600_000 }]);
      for (const step of p.worker.script ?? []) if (step.op === "run") expect(step.argv[0]).toBe("node");
    }
  });

  it("the red lane's bug really changes src/price.js", () => {
    expect(BUGGY_PRICE_SOURCE).not.toBe(DEMO_FILES["src/price.js"]);
    expect(BUGGY_PRICE_SOURCE).toContain("Math.floor");
  });

  it("the running lane keeps printing for at least five minutes", () => {
    const steps = byBranch(DEMO_BRANCHES.running).worker.script ?? [];
    const ms = steps.reduce((t, s) => t + (s.op === "progress" ? s.count * s.intervalMs : 0), 0);
    expect(ms).toBeGreaterThanOrEqual(5 * 60_000);
  });
});

describe("demo lanes run by the script agent in worktrees of the demo repo", () => {
  it("green: commits clamp() and the acceptance check passes", async () => {
    const { worker, acceptance, commits } = await runLane(byBranch(DEMO_BRANCHES.green));
    expect(worker.exitCode, worker.all).toBe(0);
    expect(worker.all).toContain("» append src/math.js");
    expect(commits.map((c) => c.subject)).toEqual(["Add clamp() with tests"]);
    expect(acceptance.exitCode, acceptance.all).toBe(0);
    expect(acceptance.all).toMatch(/# fail 0/);
  });

  it("red: the worker finishes but the committed bug fails the acceptance check", async () => {
    const { worker, acceptance, commits } = await runLane(byBranch(DEMO_BRANCHES.red));
    expect(worker.exitCode, worker.all).toBe(0);
    expect(worker.all).toContain("(allowed)");
    expect(commits.map((c) => c.subject)).toEqual(["Round discounts down to whole cents"]);
    expect(acceptance.exitCode).not.toBe(0);
    expect(acceptance.all).toContain("applyDiscount rounds half a cent up");
    expect(acceptance.all).toMatch(/# fail 1/);
  });

  it("behind and queued lanes finish green", async () => {
    for (const branch of [DEMO_BRANCHES.behind, DEMO_BRANCHES.queued]) {
      const { worker, acceptance, commits } = await runLane(byBranch(branch));
      expect(worker.exitCode, worker.all).toBe(0);
      expect(commits).toHaveLength(1);
      expect(acceptance.exitCode, acceptance.all).toBe(0);
    }
  });

  it("running: with its progress shortened, it prints coloured progress and ends green", async () => {
    const packet = byBranch(DEMO_BRANCHES.running);
    const script = (packet.worker.script ?? []).map((s) => (s.op === "progress" ? { ...s, count: 3, intervalMs: 0 } : s));
    const { worker, acceptance } = await runLane({ ...packet, worker: { ...packet.worker, script } });
    expect(worker.exitCode, worker.all).toBe(0);
    expect(worker.all).toContain("[3/3] \u001b[33mindexing\u001b[0m");
    expect(acceptance.exitCode, acceptance.all).toBe(0);
  });
});
