/**
 * Recovery recipes for worker failures, and bad input around lanes, on a real runtime: each
 * recipe makes exactly one attempt and then escalates; each bad input is a typed event with a
 * failure class for its lane, and the lane next to it is not touched.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { commitFile } from "../git/git.testing";
import { groupMembers } from "../processes/procfs";
import { isTerminal, runtimePerTest, shellPacket, waitForLane } from "../testing/runtime-harness";
import { agentPacket, fakeAgent } from "../workers/worker.testing";
import { COMMIT, eventually, laneEvents, ofType, releaseWhenStale, SH } from "./lane-fixtures.testing";

describe("recovery recipes for workers", () => {
  const h = runtimePerTest({ workerCap: 4 });

  it("an agent worker that crashes at startup is restarted once, then escalated and shown blocked; a shell worker that printed its error is not", async () => {
    const crash = await fakeAgent(h.dataDir, "crashing-claude", "process.stderr.write('engine: cannot load config\\n'); process.exit(3);\n");
    const lane = await h.rt.lanes.create(agentPacket(h.repoId, "claude", { command: crash }));
    const shell = await h.rt.lanes.create(shellPacket(h.repoId, SH("echo 'engine: cannot load config' >&2; exit 3")));
    const escalated = await eventually(h.rt, lane.id, "lane.escalated");
    const events = await laneEvents(h.rt, lane.id);
    const failed = ofType(events, "lane.failed");
    expect(failed).toHaveLength(2);
    expect(failed[0]!.payload).toMatchObject({ role: "worker", failureClass: "tool_runtime", failureReason: "worker_failed", exitCode: 3 });
    expect(failed[0]!.payload.evidence).toContain("engine: cannot load config");
    const attempts = ofType(events, "lane.recovery.attempted");
    expect(attempts.map((e) => e.payload)).toEqual([expect.objectContaining({ recipe: "restart-worker", key: "worker_startup_crash", action: "restart_worker" })]);
    expect(ofType(events, "lane.restarted").map((e) => e.payload.by)).toEqual(["recovery"]);
    expect(escalated.payload).toMatchObject({ failureClass: "tool_runtime", recipe: "restart-worker" });
    expect(escalated.payload.evidence).toContain("engine: cannot load config");
    const types = events.map((e) => e.type);
    expect(types.indexOf("lane.recovery.attempted")).toBeLessThan(types.indexOf("lane.restarted"));
    const view = await waitForLane(h.rt, lane.id, (l) => !!l.blocked);
    expect(view).toMatchObject({ state: "failed", attempt: 2, blocked: { failureClass: "tool_runtime" } });
    // Blocked and the summary agree: recovery gave up, so the next action is not another restart.
    expect(view.summary).toMatchObject({ phase: "failed", nextAction: { action: "ask_human" } });
    expect((await h.rt.workers.state(lane.id)).summary.nextAction.action).toBe("ask_human");
    // The shell worker ran and said why it failed: its exit code is its result, classified, not rerun.
    const shellEvents = await laneEvents(h.rt, (await waitForLane(h.rt, shell.id, isTerminal)).id);
    expect(ofType(shellEvents, "lane.failed")[0]?.payload).toMatchObject({ role: "worker", failureReason: "worker_failed", evidence: expect.arrayContaining(["engine: cannot load config"]) });
    expect(ofType(shellEvents, "lane.recovery.attempted")).toEqual([]);
    expect(ofType(shellEvents, "policy.decided")).toEqual([]);
  });

  it("a shell worker that dies at once without a word counts as crashed at startup: one restart, then escalated", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH("exit 3")));
    const escalated = await eventually(h.rt, lane.id, "lane.escalated");
    const events = await laneEvents(h.rt, lane.id);
    expect(ofType(events, "lane.recovery.attempted").map((e) => e.payload.recipe)).toEqual(["restart-worker"]);
    expect(ofType(events, "lane.started")).toHaveLength(2);
    expect(escalated.payload).toMatchObject({ recipe: "restart-worker", failureClass: "tool_runtime", evidence: ["exit: code 3"] });
  });

  it("a rate-limited engine is retried once after a backoff, then escalated", async () => {
    h.rt.recovery.backoffMs = 200;
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH(`echo '{"type":"result","is_error":true,"api_error_status":429,"result":"API Error: Request rejected (429)"}'; exit 1`)));
    const escalated = await eventually(h.rt, lane.id, "lane.escalated");
    const events = await laneEvents(h.rt, lane.id);
    expect(ofType(events, "lane.failed")[0]?.payload).toMatchObject({ failureClass: "infra", failureReason: "rate_limited" });
    expect(ofType(events, "lane.recovery.attempted").map((e) => e.payload)).toEqual([expect.objectContaining({ recipe: "retry-after-backoff", action: "retry_after_backoff" })]);
    const attemptAt = Date.parse(ofType(events, "lane.recovery.attempted")[0]!.at);
    const restartAt = Date.parse(ofType(events, "lane.restarted")[0]!.at);
    expect(restartAt - attemptAt).toBeGreaterThanOrEqual(150);
    expect(escalated.payload).toMatchObject({ failureClass: "infra", recipe: "retry-after-backoff", failureReason: "rate_limited" });
  });

  it("onWorkerFailure (interactive engines): trust prompt recovered once by the caller, then escalated", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "30"]));
    await waitForLane(h.rt, lane.id, (l) => l.state === "running");
    const trust = { failureClass: "trust_gate" as const, reason: "trust_prompt", summary: "the worker is waiting on a folder-trust prompt", evidence: ["Is this a project you created or one you trust?"] };
    const performed: string[] = [];
    const first = await h.rt.recovery.onWorkerFailure(lane.id, trust, { perform: async (r) => void performed.push(r.recipe) });
    expect(first).toMatchObject({ kind: "attempt", recipe: { recipe: "resolve-trust-prompt", action: "resolve_trust" } });
    expect(performed).toEqual(["resolve-trust-prompt"]);
    const second = await h.rt.recovery.onWorkerFailure(lane.id, trust, { perform: async (r) => void performed.push(r.recipe) });
    expect(second).toEqual({ kind: "escalate" });
    expect(performed).toHaveLength(1);
    const events = await laneEvents(h.rt, lane.id);
    expect(ofType(events, "policy.decided").map((e) => e.payload.ruleId)).toEqual(["blocked-recover-once", "blocked-escalate"]);
    expect(ofType(events, "lane.escalated")[0]?.payload).toMatchObject({ failureClass: "trust_gate", evidence: trust.evidence });
    expect((await h.rt.lanes.get(lane.id)).blocked).toMatchObject({ failureClass: "trust_gate" });
  });
});

describe("bad input: typed events with a failure class, no other lane touched", () => {
  const h = runtimePerTest({ workerCap: 4 });

  /** A lane next to the one under test, which must finish green without a problem event. */
  async function neighbour() {
    return h.rt.lanes.create(shellPacket(h.repoId, SH(`echo n > n.txt && git add -A && ${COMMIT} -m n`), { acceptance: [{ level: "workspace", argv: ["test", "-f", "n.txt"] }] }));
  }
  async function expectUntouched(laneId: string) {
    const done = await waitForLane(h.rt, laneId, isTerminal);
    expect(done.state).toBe("finished");
    const types = (await laneEvents(h.rt, laneId)).map((e) => e.type);
    for (const t of ["branch.problem", "lane.escalated", "lane.red", "lane.failed"]) expect(types).not.toContain(t);
  }

  it("a lock file left by a crashed git stops the merge-forward: infra, the worktree untouched", async () => {
    const other = await neighbour();
    const lane = await h.rt.lanes.create(
      shellPacket(h.repoId, SH(`echo a > a.txt && git add -A && ${COMMIT} -m a && read go && touch "$(git rev-parse --git-path index.lock)"`), {
        acceptance: [{ level: "workspace", argv: ["true"] }],
      }),
    );
    await eventually(h.rt, lane.id, "lane.commit.created");
    await commitFile(h.repoPath, "m.txt", "m\n", "main moves");
    const { done, events } = await releaseWhenStale(h.rt, lane.id);
    expect(done.state).toBe("failed");
    expect(ofType(events, "branch.problem")[0]?.payload).toMatchObject({ problem: "locked", failureClass: "infra", operation: "merge_forward" });
    expect(ofType(events, "lane.failed")[0]?.payload).toMatchObject({ failureClass: "infra", failureReason: "locked", role: "check" });
    expect(ofType(events, "branch.merged_forward")).toEqual([]);
    await expectUntouched(other.id);
  });

  it("a check that hangs is killed at its timeout with its whole process group: red, infra, timed_out", async () => {
    const other = await neighbour();
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"], { acceptance: [{ level: "targeted", argv: SH("echo waiting; sleep 60 & sleep 60; wait"), timeoutMs: 500 }] }));
    const red = await eventually(h.rt, lane.id, "lane.red");
    expect(red.payload).toMatchObject({ failureClass: "infra", failureReason: "timed_out", timedOut: true, summary: "timed out after 500 ms; its process group was killed" });
    expect(red.payload.evidence).toContain("waiting");
    const started = ofType(await laneEvents(h.rt, lane.id), "check.started")[0]!;
    const proc = await h.rt.supervisor.get(started.payload.processId);
    expect(groupMembers(proc.pgid!)).toEqual([]);
    expect((await waitForLane(h.rt, lane.id, isTerminal)).checks.targeted).toMatchObject({ status: "red", failureClass: "infra" });
    await expectUntouched(other.id);
  });

  it("a worktree removed by hand while its worker runs: the check is not run, workspace_mismatch", async () => {
    const other = await neighbour();
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH('rm -rf "$PWD"'), { acceptance: [{ level: "targeted", argv: ["true"] }] }));
    const done = await waitForLane(h.rt, lane.id, isTerminal);
    expect(done.state).toBe("failed");
    const events = await laneEvents(h.rt, lane.id);
    expect(ofType(events, "lane.failed")[0]?.payload).toMatchObject({ failureClass: "workspace_mismatch", failureReason: "worktree_missing" });
    expect(ofType(events, "branch.problem")[0]?.payload).toMatchObject({ problem: "worktree_missing" });
    expect(ofType(events, "check.started")).toEqual([]);
    await expect(fs.access(lane.worktreePath)).rejects.toThrow();
    await expectUntouched(other.id);
  });

  it("a branch name with shell metacharacters is refused before git or a shell sees it", async () => {
    const marker = path.join(h.dataDir, "pwned");
    for (const branch of [`lane/$(touch ${marker})`, "lane/a;touch${IFS}x", "lane/`id`", "lane/a|b", "lane/a&b"]) {
      await expect(h.rt.lanes.create(shellPacket(h.repoId, ["true"], { branch }))).rejects.toMatchObject({ code: "invalid_input", message: expect.stringContaining("branch") });
    }
    await expect(fs.access(marker)).rejects.toThrow();
    expect(await h.rt.lanes.list()).toEqual([]);
  });
});
