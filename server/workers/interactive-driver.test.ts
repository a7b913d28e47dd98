/**
 * Interactive lanes end to end through the runtime: the real interactive Claude Code (no `-p`)
 * in real tmux, in a real lane worktree, against the local model server. A repo outside the
 * trust allowlist stays gated at `trust_required` until a claw resolves it through the worker
 * service; an allowlisted repo is trusted automatically. In both, the packet's prompt is
 * delivered at `ready_for_prompt` and the scripted model's Bash and Write tools change files.
 * Exits: a killed lane ends its tmux session; `/exit` ends the agent and the lane finishes.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isTerminal, waitForLane } from "../testing/runtime-harness";
import { listInteractiveSessions } from "../engines/interactive";
import { InteractiveDriver } from "./interactive-driver";
import { agentPacket, laneEvents, payloads, startAgentRig, waitForEvent, workerStates, type AgentRig } from "./worker.testing";

let rig: AgentRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const TURNS = [
  { text: "Running a command first.", toolCalls: [{ name: "Bash", input: { command: "echo bash-was-here > bash.txt", description: "write bash.txt" } }] },
  { text: "Now writing the file.", toolCalls: [{ name: "Write", input: { file_path: "out.txt", content: "written by interactive claude\n" } }] },
  { text: "Done: both files are written." },
];
const interactivePacket = (repoId: string) => {
  const p = agentPacket(repoId, "claude");
  return { ...p, worker: { ...p.worker, mode: "interactive" as const } };
};
/** Turns of the scripted lane conversation the model server answered. */
const laneTurns = () => rig!.server.requests.filter((r) => r.conversation === "lane" && !r.side).map((r) => r.turnIndex);

/** The agent answered its first prompt: the worker went back from `running` to `ready_for_prompt`. */
function turnDone(laneId: string) {
  return waitForEvent(rig!.h.rt, laneId, "worker.state_changed", (p) => p.from === "running" && p.to === "ready_for_prompt", 90_000);
}

async function expectFilesWritten(worktree: string): Promise<void> {
  expect(await fs.readFile(path.join(worktree, "bash.txt"), "utf8")).toBe("bash-was-here\n");
  expect(await fs.readFile(path.join(worktree, "out.txt"), "utf8")).toBe("written by interactive claude\n");
}

describe("interactive lanes (real Claude Code in tmux)", () => {
  it("a repo outside the allowlist stays gated until a claw resolves trust; then the prompt runs real tools; kill ends the session", async () => {
    const t0 = Date.now();
    rig = await startAgentRig(TURNS);
    const { rt, repoId, dataDir } = rig.h;
    const lane = await rt.lanes.create(interactivePacket(repoId));
    const gated = await waitForLane(rt, lane.id, (l) => l.worker?.state === "trust_required", 60_000);
    const trust = await waitForEvent(rt, lane.id, "trust_required");
    expect(trust.payload).toEqual({ workerId: gated.worker!.id, path: await fs.realpath(gated.worktreePath).catch(() => gated.worktreePath) });
    const tGate = Date.now() - t0;
    // Gated: no prompt may be typed, and nothing was sent to the model.
    expect(await rt.workers.prompt(lane.id, "LANE-TASK: too early").then(() => "delivered", (e: { code?: string }) => e.code)).toBe("not_ready");
    expect(laneTurns()).toEqual([]);
    expect((await rt.workers.state(lane.id)).worker?.state).toBe("trust_required");

    const done = turnDone(lane.id);
    await rt.workers.resolveTrust(lane.id, "claw");
    await done;
    await expectFilesWritten(gated.worktreePath);
    expect(laneTurns()).toEqual([0, 1, 2]);
    const events = await laneEvents(rt, lane.id);
    expect(payloads(events, "trust_resolved")).toEqual([{ workerId: gated.worker!.id, by: "claw" }]);
    expect(payloads(events, "lane.ready")).toHaveLength(1);
    expect(workerStates(events)).toEqual(["spawning", "trust_required", "spawning", "ready_for_prompt", "prompt_accepted", "running", "ready_for_prompt"]);
    expect((await rt.lanes.get(lane.id)).worker).toMatchObject({ promptDeliveries: 1 });
    const tTurn = Date.now() - t0;

    // Killing the lane kills the host, whose trap ends the tmux session.
    await rt.lanes.kill(lane.id, { by: "test" });
    expect((await waitForLane(rt, lane.id, isTerminal, 30_000)).state).toBe("killed");
    expect(await listInteractiveSessions(dataDir)).not.toContain(InteractiveDriver.sessionName(gated.worker!.id));
    console.log(`[timing] interactive lane (gated): trust_required ${tGate} ms, turn answered ${tTurn} ms, killed ${Date.now() - t0} ms`);
  }, 150_000);

  it("an allowlisted repo is trusted automatically (by: allowlist); /exit ends the agent and the lane finishes", async () => {
    const t0 = Date.now();
    // The harness's repo is created under the temp dir: allowlisting that folder trusts it.
    rig = await startAgentRig(TURNS, { trustedRepos: [os.tmpdir()] });
    const { rt, repoId } = rig.h;
    const lane = await rt.lanes.create(interactivePacket(repoId));
    const done = turnDone(lane.id);
    const resolved = await waitForEvent(rt, lane.id, "trust_resolved", () => true, 60_000);
    expect(resolved.payload.by).toBe("allowlist");
    await done;
    const view = await rt.lanes.get(lane.id);
    await expectFilesWritten(view.worktreePath);
    expect(workerStates(await laneEvents(rt, lane.id))).toEqual(["spawning", "trust_required", "spawning", "ready_for_prompt", "prompt_accepted", "running", "ready_for_prompt"]);
    const tTurn = Date.now() - t0;

    // A follow-up through the control API: `/exit` ends Claude Code with status 0.
    await rt.workers.prompt(lane.id, "/exit");
    const end = await waitForLane(rt, lane.id, isTerminal, 60_000);
    expect(end.state).toBe("finished");
    expect(end.worker?.state).toBe("finished");
    console.log(`[timing] interactive lane (allowlisted): turn answered ${tTurn} ms, finished ${Date.now() - t0} ms`);
  }, 150_000);
});
