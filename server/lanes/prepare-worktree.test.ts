/**
 * A lane that waited for another starts from its base as it is at start time plus the branches
 * of the lanes it depends on: real git repos and worktrees, real shell workers that commit, and
 * the base branch moving while the dependant waits. Waits are on lane events.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { LaneEventOf } from "@/lib/lane-events";
import { git } from "../git/git";
import { commitFile } from "../git/git.testing";
import { COMMIT, SH } from "../recovery/lane-fixtures.testing";
import { isTerminal, shellPacket, startTestRuntime, waitForLane, waitForOutput, type TestRuntime } from "../testing/runtime-harness";
import { agentPacket, laneEvents, startAgentRig, waitForEvent, type AgentRig } from "../workers/worker.testing";

let h: TestRuntime | null = null;
let rig: AgentRig | null = null;
afterEach(async () => {
  await h?.close();
  await rig?.close();
  h = rig = null;
});

/** A worker that commits `file` with `content`, says so, then waits for a line on stdin before it exits 0. */
const commitThenWait = (file: string, content: string) => SH(`echo ${content} > ${file} && git add ${file} && ${COMMIT} -m "lane writes ${file}" && echo committed && read go`);
const head = async (cwd: string, ref = "HEAD") => (await git(["rev-parse", "--verify", "--end-of-options", ref], { cwd })).stdout.trim();
const subjects = async (cwd: string) => (await git(["log", "--format=%s", "HEAD"], { cwd })).stdout.split("\n").filter(Boolean);

async function release(t: TestRuntime, laneId: string): Promise<void> {
  await t.rt.supervisor.writeStdin((await t.rt.lanes.get(laneId)).currentProcessId!, "go\n");
  await waitForLane(t.rt, laneId, isTerminal);
}

// Two lanes, one after the other, each with its own git work: more than the default 60 s on a busy 2-core machine.
describe("a dependant's worktree at start", { timeout: 180_000 }, () => {
  it("starts from the base as it is at start time plus the dependency's commits, recorded in lane.worktree_prepared", async () => {
    h = await startTestRuntime();
    const { rt, repoId, repoPath } = h;
    const a = await rt.lanes.create(shellPacket(repoId, commitThenWait("a.txt", "from-a")));
    await waitForOutput(rt, a.id, "committed");
    // Created now: its branch is cut from main before main moves and before A finishes.
    const b = await rt.lanes.create(shellPacket(repoId, SH("test -f a.txt && test -f later.txt && echo both-present"), { dependsOn: [a.id] }));
    const createdAt = (await rt.db.lane.findUniqueOrThrow({ where: { id: b.id } })).baseSha;
    expect(createdAt).toBe(await head(repoPath, "main"));
    const mainLater = await commitFile(repoPath, "later.txt", "main moved\n", "main moves on");
    await release(h, a.id);
    const done = await waitForLane(rt, b.id, isTerminal);
    expect(done.state).toBe("finished");
    await waitForOutput(rt, b.id, "both-present");
    const prepared = (await laneEvents(rt, b.id)).find((e) => e.type === "lane.worktree_prepared") as LaneEventOf<"lane.worktree_prepared">;
    const aHead = await head(repoPath, `refs/heads/${a.branch}`);
    expect(prepared.payload).toEqual({ baseBranch: "main", baseSha: mainLater, previousBaseSha: createdAt, head: await head(b.worktreePath), merged: [{ laneId: a.id, branch: a.branch, sha: aHead }] });
    expect(await subjects(b.worktreePath)).toEqual(expect.arrayContaining(["main moves on", "lane writes a.txt"]));
    // Its base is now the main it started from: not stale, nothing missing.
    expect((await rt.freshness.refresh(b.id))).toMatchObject({ baseSha: mainLater, baseMoved: false, behind: 0 });
    const types = (await laneEvents(rt, b.id)).map((e) => e.type);
    expect(types.indexOf("lane.worktree_prepared")).toBeLessThan(types.indexOf("lane.started"));
    // What B produced for its own dependants is its own work (none here), not A's commits.
    expect(JSON.parse((await rt.db.lane.findUniqueOrThrow({ where: { id: b.id } })).produced ?? "{}")).toMatchObject({ commits: [] });
  });

  it("a conflict between the dependency and the moved base fails the start (branch_divergence) before any worker runs, the worktree untouched", async () => {
    h = await startTestRuntime();
    const { rt, repoId, repoPath } = h;
    const a = await rt.lanes.create(shellPacket(repoId, commitThenWait("shared.txt", "from-a")));
    await waitForOutput(rt, a.id, "committed");
    const b = await rt.lanes.create(shellPacket(repoId, ["true"], { dependsOn: [a.id] }));
    const before = (await rt.db.lane.findUniqueOrThrow({ where: { id: b.id } })).baseSha;
    await commitFile(repoPath, "shared.txt", "from-main\n", "main writes shared.txt");
    await release(h, a.id);
    const failed = await waitForEvent(rt, b.id, "lane.failed");
    expect(failed.payload).toMatchObject({ failureClass: "branch_divergence", failureReason: "merge_conflict", role: "worker", reason: expect.stringMatching(/dependency branch/) });
    const events = await laneEvents(rt, b.id);
    expect(events.find((e) => e.type === "branch.conflict")?.payload).toMatchObject({ files: ["shared.txt"], during: "dependency_merge" });
    expect(events.some((e) => e.type === "lane.started" || e.type === "lane.worktree_prepared")).toBe(false);
    // The base was merged (a fast-forward), the conflicting merge aborted: no merge in progress, nothing dirty.
    expect(await head(b.worktreePath)).not.toBe(before);
    expect((await git(["status", "--porcelain"], { cwd: b.worktreePath })).stdout.trim()).toBe("");
    // No automatic fix for a conflict: escalated, and the summary agrees.
    await waitForEvent(rt, b.id, "lane.escalated");
    expect((await rt.lanes.get(b.id)).summary).toMatchObject({ phase: "failed", nextAction: { action: "ask_human" } });
  });

  it("an agent dependant that changes nothing is still a phantom: judged against its start point, not its dependencies' commits", async () => {
    rig = await startAgentRig([{ text: "Nothing to do." }]);
    const { rt, repoId } = rig.h;
    const a = await rt.lanes.create(shellPacket(repoId, commitThenWait("a.txt", "from-a")));
    await waitForOutput(rt, a.id, "committed");
    const b = await rt.lanes.create(agentPacket(repoId, "anthropic", { dependsOn: [a.id] }));
    await release(rig.h, a.id);
    const phantom = await waitForEvent(rt, b.id, "lane.phantom_completion", () => true, 60_000);
    const prepared = (await laneEvents(rt, b.id)).find((e) => e.type === "lane.worktree_prepared") as LaneEventOf<"lane.worktree_prepared">;
    expect(phantom.payload).toMatchObject({ baseSha: prepared.payload.head, head: prepared.payload.head });
  });
});
