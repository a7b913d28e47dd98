/**
 * No process outlives its lane, on a real runtime: a lane whose wrapper or command is SIGKILLed
 * from outside fails with that cause (not "probably out of memory"), leaves no process behind
 * (checked in /proc), and Kill / Restart act on what is left: a restart runs exactly one command.
 */
import { describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { groupMembers } from "../processes/procfs";
import { survivors } from "../processes/supervisor.testing";
import { nextEvent, runtimePerTest, shellPacket, waitForLane, waitForOutput } from "../testing/runtime-harness";
import { eventually, laneEvents, ofType, SH } from "../recovery/lane-fixtures.testing";
import { agentPacket, startAgentRig } from "../workers/worker.testing";
import { readProcStat } from "../processes/procfs";
import fs from "node:fs";
import path from "node:path";

const h = runtimePerTest({ killGraceMs: 500 });

describe("a lane's processes never outlive it", () => {
  it("SIGKILL of the wrapper: the lane fails naming it, nothing survives, kill is not_running, restart runs one command", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH('echo started; while :; do echo tick; sleep 0.05; done')));
    const running = await waitForLane(h.rt, lane.id, (l) => l.state === "running");
    await waitForOutput(h.rt, lane.id, "started");
    const proc = await h.rt.supervisor.get(running.currentProcessId!);
    // The view turns failed with lane.state_changed; lane.failed (with the cause) is appended after it.
    const failedEvent = nextEvent(h.rt, "lane.failed", lane.id);
    process.kill(proc.pid!, "SIGKILL");
    const failed = await waitForLane(h.rt, lane.id, (l) => l.state === "failed");
    await failedEvent;
    expect(survivors(proc.id)).toEqual([]);
    expect(groupMembers(proc.pgid!)).toEqual([]);
    const events = await laneEvents(h.rt, lane.id);
    expect(ofType(events, "process.exited")[0]?.payload).toMatchObject({ processId: proc.id, signal: "SIGKILL", wrapperDied: true });
    expect(ofType(events, "lane.failed")[0]?.payload).toMatchObject({
      failureReason: "killed_from_outside",
      summary: "its supervising wrapper was killed by SIGKILL from outside Laneboard; the command was stopped",
    });
    const kill = await h.rt.lanes.kill(lane.id).catch((err: unknown) => err);
    expect(isAppError(kill) && kill.code).toBe("not_running");

    await h.rt.lanes.restart(lane.id);
    const again = await waitForLane(h.rt, lane.id, (l) => l.state === "running" && l.attempt === failed.attempt + 1);
    await waitForOutput(h.rt, lane.id, "tick");
    // Only the new attempt's processes run: one wrapper, one command (and its sleep at times).
    expect(survivors(proc.id)).toEqual([]);
    const now = await h.rt.supervisor.get(again.currentProcessId!);
    expect(survivors(now.id).length).toBeGreaterThanOrEqual(2);
    expect(ofType(await laneEvents(h.rt, lane.id), "lane.started")).toHaveLength(2);
  });

  it("a silent worker SIGKILLed at startup is a kill from outside, and the startup-crash recipe restarts it once", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["sleep", "300"]));
    const running = await waitForLane(h.rt, lane.id, (l) => l.state === "running");
    const proc = await h.rt.supervisor.get(running.currentProcessId!);
    await expect.poll(() => groupMembers(proc.pgid!).length).toBe(2); // the wrapper and sleep
    const command = groupMembers(proc.pgid!).find((pid) => pid !== proc.pid)!;
    process.kill(command, "SIGKILL");
    const attempted = await eventually(h.rt, lane.id, "lane.recovery.attempted");
    expect(attempted.payload).toMatchObject({ recipe: "restart-worker", key: "worker_startup_crash", failureClass: "tool_runtime" });
    const failed = ofType(await laneEvents(h.rt, lane.id), "lane.failed")[0]!;
    expect(failed.payload).toMatchObject({ failureClass: "tool_runtime", failureReason: "killed_from_outside", exitCode: null, signal: "SIGKILL" });
    expect(failed.payload.summary).not.toMatch(/most likely|memory killer/);
    await waitForLane(h.rt, lane.id, (l) => l.attempt === 2 && l.state === "running");
  });

  it("an agent tool's child stays in the lane: SIGKILL of the agent leaves no tool process behind", async () => {
    // The built-in agent runs a tool command that records its pid in the worktree and sleeps.
    const rig = await startAgentRig([
      { toolCalls: [{ name: "run_command", input: { argv: ["sh", "-c", "echo $$ > tool.pid; exec sleep 300"] } }] },
      { text: "never reached" },
    ]);
    try {
      const { rt, repoId } = rig.h;
      const lane = await rt.lanes.create(agentPacket(repoId, "anthropic"));
      const running = await waitForLane(rt, lane.id, (l) => l.state === "running");
      const pidFile = path.join(running.worktreePath!, "tool.pid");
      await expect.poll(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, "utf8").endsWith("\n"), { timeout: 30_000 }).toBe(true);
      const tool = Number(fs.readFileSync(pidFile, "utf8"));
      const proc = await rt.supervisor.get(running.currentProcessId!);
      expect(readProcStat(tool)?.pgid).toBe(proc.pgid); // in the lane's group, not one of its own
      // SIGKILL the agent itself (the wrapper's child): its tool's child must not outlive the lane.
      const agent = groupMembers(proc.pgid!).find((pid) => readProcStat(pid)?.ppid === proc.pid)!;
      process.kill(agent, "SIGKILL");
      await waitForLane(rt, lane.id, (l) => l.state === "failed", 30_000);
      const st = readProcStat(tool);
      expect(st === null || st.state === "Z").toBe(true);
      expect(survivors(proc.id)).toEqual([]);
    } finally {
      await rig.close();
    }
  });
});
