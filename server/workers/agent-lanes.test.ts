/**
 * Agent engines end to end through the runtime (lane runner, worker monitor, state machine,
 * acceptance checks) against the local model server: the real built-in agent on the real SDK,
 * the real Claude Code CLI and the real Codex CLI change and commit real files in the lane's
 * worktree and the lane goes green; errors, workspace mismatch and phantom completion on the
 * same path. Every wait is on lane events.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { LaneView } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";
import { git } from "../git/git";
import type { Runtime } from "../runtime";
import { isTerminal, waitForLane } from "../testing/runtime-harness";
import { agentPacket, laneEvents, payloads, startAgentRig, waitForEvent, workerStates, type AgentRig } from "./worker.testing";

let rig: AgentRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const call = (name: string, input: Record<string, unknown>, text?: string) => ({ ...(text ? { text } : {}), toolCalls: [{ name, input }] });
const GREEN_STATES = ["spawning", "ready_for_prompt", "prompt_accepted", "running", "finished"];

async function subjects(repo: string, branch: string): Promise<string[]> {
  return (await git(["log", "--format=%s", "--end-of-options", branch], { cwd: repo })).stdout.split("\n").filter(Boolean);
}

/**
 * Create a lane of `engine` on the rig (with a targeted acceptance check running `checkArgv`, if
 * given) and wait up to `timeoutMs` for it to end.
 */
async function runLane(engine: "claude" | "codex" | "anthropic", checkArgv: string[] | null, timeoutMs: number) {
  const { rt, repoId } = rig!.h;
  const lane = await rt.lanes.create(agentPacket(repoId, engine, checkArgv ? { acceptance: [{ level: "targeted", argv: checkArgv }] } : {}));
  const ended = await waitForLane(rt, lane.id, isTerminal, timeoutMs);
  // The row reaches its end state before the event that says so is stored, and the view's summary
  // is derived from the events (PostgreSQL's CI run read it in between): read it once stored.
  const closing = ({ finished: "lane.finished", failed: "lane.failed", killed: "lane.killed" } as const)[ended.state as "finished" | "failed" | "killed"];
  if (closing) await waitForEvent(rt, lane.id, closing);
  const done = closing ? await rt.lanes.get(lane.id) : ended;
  return { rt, lane, done };
}

/** The lane finished with its targeted check green, its worker having gone through every green state; returns its events. */
async function expectGreen(rt: Runtime, done: LaneView): Promise<LaneEvent[]> {
  expect(done).toMatchObject({ state: "finished", checks: { targeted: { status: "green" } } });
  const events = await laneEvents(rt, done.id);
  expect(workerStates(events)).toEqual(GREEN_STATES);
  return events;
}

describe("agent lanes through the runtime", () => {
  it("anthropic: the built-in agent edits a file, commits, and the lane finishes green", async () => {
    const t0 = Date.now();
    rig = await startAgentRig([
      call("write_file", { path: "NOTES.md", content: "hello from the agent\n" }, "Writing the notes."),
      call("run_command", { argv: ["git", "add", "NOTES.md"] }),
      call("run_command", { argv: ["git", "commit", "-q", "-m", "add notes"] }),
      { text: "Committed NOTES.md." },
    ]);
    const { repoPath } = rig.h;
    const { rt, lane, done } = await runLane("anthropic", ["grep", "-q", "hello", "NOTES.md"], 60_000);
    const events = await expectGreen(rt, done);
    expect(await subjects(repoPath, lane.branch)).toEqual(["add notes", "add package.json", "initial commit"]);
    const types = events.map((e) => e.type);
    expect(types.indexOf("lane.started")).toBeLessThan(types.indexOf("lane.ready"));
    expect(types.indexOf("lane.ready")).toBeLessThan(types.indexOf("lane.green"));
    const activity = payloads(events, "worker.activity");
    expect(activity.filter((a) => a.kind === "tool_use").length).toBeGreaterThanOrEqual(1);
    expect(activity.filter((a) => a.kind === "tool_use").length).toBeLessThanOrEqual(3);
    expect(activity.at(-1)).toMatchObject({ kind: "final_message", detail: "Committed NOTES.md." });
    const inputTokens = rig.server.requests.reduce((n, r) => n + (r.usage?.inputTokens ?? 0), 0);
    expect(payloads(events, "worker.usage").at(-1)).toMatchObject({ inputTokens, costUsd: null });
    expect(done.worker).toMatchObject({ state: "finished", usage: { inputTokens }, lastError: null, promptDeliveries: 1, acceptsPrompt: false, promptMode: null });
    expect(done.summary).toMatchObject({ phase: "finished", blocker: null, nextAction: { action: "review_and_merge" } });
    expect(["green", "finished", "commit"]).toContain(done.summary!.lastCheckpoint!.kind);
    console.log(`[timing] anthropic lane, 4 turns + check: ${Date.now() - t0} ms`);
  });

  it("claude: the real Claude Code CLI edits and commits, goes green, and takes a follow-up that resumes its session", async () => {
    const t0 = Date.now();
    rig = await startAgentRig([
      call("Read", { file_path: "README.md" }, "Reading the README."),
      call("Edit", { file_path: "README.md", old_string: "# test repo", new_string: "# edited by claude" }),
      call("Bash", { command: "git add README.md && git commit -q -m 'edit readme'", description: "commit" }),
      { text: "README edited and committed." },
      // The follow-up continues the same conversation (turns 4 and 5).
      call("Bash", { command: "echo more > more.txt && git add more.txt && git commit -q -m 'follow-up commit'", description: "commit" }),
      { text: "Follow-up done." },
    ]);
    const { repoPath } = rig.h;
    const { rt, lane, done } = await runLane("claude", ["grep", "-q", "edited by claude", "README.md"], 90_000);
    const events = await expectGreen(rt, done);
    expect(await subjects(repoPath, lane.branch)).toEqual(["edit readme", "add package.json", "initial commit"]);
    const activity = payloads(events, "worker.activity");
    expect(activity.filter((a) => a.kind === "tool_use").map((a) => a.name)).toEqual(expect.arrayContaining(["Read"]));
    expect(activity.some((a) => a.kind === "tool_error")).toBe(false);
    expect(activity.at(-1)).toMatchObject({ kind: "final_message", detail: "README edited and committed." });
    expect(done.worker!.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    // Ended with a session to resume: a prompt now is accepted, as a follow-up, and `ready` says so.
    expect(done.worker).toMatchObject({ acceptsPrompt: true, promptMode: "follow_up" });
    expect(await rt.workers.awaitReady(lane.id, 0)).toMatchObject({ ready: true, settled: true });
    expect(done.worker!.usage!.costUsd).toBeGreaterThan(0);
    console.log(`[timing] claude lane (real CLI), 4 turns + check: ${Date.now() - t0} ms`);

    const followUp = await rt.workers.prompt(lane.id, "now add more.txt");
    expect(followUp).toMatchObject({ mode: "follow_up", laneState: expect.stringMatching(/queued|starting|running/) });
    const again = await waitForLane(rt, lane.id, (l) => isTerminal(l) && l.attempt === done.attempt + 1, 90_000);
    expect(again.state).toBe("finished");
    expect(await subjects(repoPath, lane.branch)).toEqual(["follow-up commit", "edit readme", "add package.json", "initial commit"]);
    // The resumed run sent the earlier turns along: the server answered turn 4, then 5.
    expect(rig.server.requests.filter((r) => r.conversation === "lane").map((r) => r.turnIndex)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(again.worker).toMatchObject({ attempt: done.attempt + 1, sessionId: done.worker!.sessionId, state: "finished" });
  });

  it("codex: the real Codex CLI writes and commits through the lane runner and the lane goes green", async () => {
    rig = await startAgentRig([
      { text: "Writing a file.", toolCalls: [{ name: "exec_command", input: { cmd: "echo codex > codex.txt && git add codex.txt && git commit -q -m 'codex commit'" } }] },
      { text: "Done." },
    ]);
    const { repoPath } = rig.h;
    const { rt, lane, done } = await runLane("codex", ["test", "-f", "codex.txt"], 90_000);
    const events = await expectGreen(rt, done);
    expect(await subjects(repoPath, lane.branch)).toContain("codex commit");
    expect(payloads(events, "worker.activity")[0]).toMatchObject({ kind: "tool_use", name: "command" });
    expect(done.worker!.sessionId).toBeTruthy();
  });

  it("a 401 from the model API (the real Claude Code CLI): class provider_auth, next action fix_credentials, no restart", async () => {
    rig = await startAgentRig([{ text: "never" }], { anthropicApiKey: "a-revoked-key" }, { apiKey: "the-right-key" });
    const { rt, repoId } = rig.h;
    const lane = await rt.lanes.create(agentPacket(repoId, "claude"));
    await waitForEvent(rt, lane.id, "lane.failed", () => true, 90_000);
    const done = await rt.lanes.get(lane.id);
    expect(done.state).toBe("failed");
    expect(rig.server.requests.filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(1);
    const events = await laneEvents(rt, lane.id);
    expect(payloads(events, "lane.failed")).toEqual([expect.objectContaining({ failureClass: "provider_auth", failureReason: "auth_rejected", role: "worker" })]);
    expect(done.worker!.lastError).toMatchObject({ failureClass: "provider_auth" });
    expect(done.summary).toMatchObject({ phase: "failed", blocker: { failureClass: "provider_auth" }, nextAction: { action: "fix_credentials" } });
    await rt.recovery.stop(); // recovery decided (or not) on lane.failed: nothing may restart the lane
    expect((await laneEvents(rt, lane.id)).filter((e) => e.type === "lane.started" || e.type === "lane.recovery.attempted").map((e) => e.type)).toEqual(["lane.started"]);
  });

  it("a 500 from the model API after the retries: the lane fails with class infra, the worker keeps the error", async () => {
    rig = await startAgentRig([{ text: "never", failures: [{ status: 500 }, { status: 500 }, { status: 500 }] }]);
    const { rt, lane, done } = await runLane("anthropic", ["true"], 60_000);
    expect(done.state).toBe("failed");
    const events = await laneEvents(rt, lane.id);
    expect(payloads(events, "lane.failed")).toEqual([expect.objectContaining({ failureClass: "infra", reason: expect.stringMatching(/500/) })]);
    expect(payloads(events, "warning").some((w) => w.failureClass === "tool_runtime" && /retry 1\/1/.test(w.message))).toBe(true);
    expect(workerStates(events)).toEqual(["spawning", "ready_for_prompt", "prompt_accepted", "running", "failed"]);
    expect(done.worker!.lastError).toMatchObject({ failureClass: "infra", message: expect.stringMatching(/500/) });
    expect(done.summary!.nextAction.action).toBe("restart_worker");
    expect(await rt.workers.lastError(lane.id)).toMatchObject({ error: { failureClass: "infra", eventType: "lane.failed" } });
    expect(events.some((e) => e.type === "check.started")).toBe(false);
  });

  it("a tool call for ../../etc/passwd: branch.workspace_mismatch, worker killed, lane failed (workspace_mismatch)", async () => {
    rig = await startAgentRig([call("read_file", { path: "../../etc/passwd" }), { text: "read it" }]);
    const { rt, lane, done } = await runLane("anthropic", null, 60_000);
    expect(done.state).toBe("failed");
    const events = await laneEvents(rt, lane.id);
    expect(payloads(events, "branch.workspace_mismatch")).toEqual([
      { expected: lane.worktreePath, actual: path.resolve(lane.worktreePath, "../../etc/passwd"), workerId: done.worker!.id, source: "tool:read_file" },
    ]);
    expect(payloads(events, "lane.failed")).toEqual([expect.objectContaining({ failureClass: "workspace_mismatch" })]);
    expect(done.worker).toMatchObject({ state: "killed", lastError: { failureClass: "workspace_mismatch" } });
    expect(done.summary).toMatchObject({ phase: "failed", blocker: { failureClass: "workspace_mismatch" }, nextAction: { action: "inspect_workspace" } });
    // Nothing after the mismatch was reported as the agent's work.
    expect(payloads(events, "worker.activity").some((a) => a.kind === "final_message")).toBe(false);
  });

  it("phantom completion: success with no commit and no change is flagged and never green, though the check would pass", async () => {
    rig = await startAgentRig([{ text: "All done, nothing needed changing." }]);
    const { rt, lane, done } = await runLane("anthropic", ["true"], 60_000);
    expect(done.state).toBe("failed");
    const events = await laneEvents(rt, lane.id);
    const base = (await git(["rev-parse", "HEAD"], { cwd: lane.worktreePath })).stdout.trim();
    expect(payloads(events, "lane.phantom_completion")).toEqual([{ workerId: done.worker!.id, baseSha: base, head: base }]);
    expect(payloads(events, "lane.failed")).toEqual([expect.objectContaining({ failureClass: "tool_runtime", reason: expect.stringMatching(/^phantom_completion: /) })]);
    expect(events.some((e) => e.type === "lane.green" || e.type === "check.started")).toBe(false);
    expect(done.worker!.state).toBe("finished"); // the worker did finish; the lane is what is not green
    // Its own recipe: look again and escalate with the evidence, never a second agent run.
    const escalated = await waitForEvent(rt, lane.id, "lane.escalated");
    expect(escalated.payload).toMatchObject({ failureClass: "tool_runtime", failureReason: "phantom_completion", recipe: "inspect-workspace", reason: expect.stringMatching(/still no commit and no change/) });
    expect(escalated.payload.evidence).toContain("agent's final message: All done, nothing needed changing.");
    const after = await laneEvents(rt, lane.id);
    expect(payloads(after, "lane.recovery.attempted")).toEqual([expect.objectContaining({ recipe: "inspect-workspace", key: "phantom_completion", action: "inspect_workspace" })]);
    expect(after.filter((e) => e.type === "lane.started")).toHaveLength(1);
    expect(rig.server.requests.filter((r) => r.conversation === "lane")).toHaveLength(1);
    const view = await rt.lanes.get(lane.id);
    expect(view.blocked).toMatchObject({ failureClass: "tool_runtime" });
    expect(view.summary).toMatchObject({ phase: "failed", blocker: { failureReason: "phantom_completion" }, nextAction: { action: "inspect_workspace" } });
  });
});
