/**
 * Runs a lane's acceptance checks one after another as supervised `check` processes in its
 * worktree, records each run (level, command, exit code, duration) on the lane, emits
 * `lane.green` / `lane.red` per run, and settles the lane when the last check ends or one is red.
 * A check longer than its `timeoutMs` has its process group killed and counts as red.
 */
import { TaskPacketSchema, type TaskPacket } from "@/lib/task-packet";
import { isAppError } from "@/lib/errors";
import type { FailureClass } from "@/lib/lane-state";
import type { ProcessExit } from "../events/event-bus";
import type { ProcessSupervisor } from "../processes/supervisor";
import { parseCheckRuns, type CheckRun } from "./checks";
import type { LaneDeps, LaneRow } from "./lane-store";

export interface CheckRunnerDeps extends LaneDeps {
  supervisor: ProcessSupervisor;
  settle: (
    lane: LaneRow,
    to: "finished" | "failed" | "killed" | "lost",
    exit: { exitCode: number | null; signal: string | null },
    failureClass?: FailureClass,
    reason?: string,
  ) => Promise<void>;
}

export class CheckRunner {
  constructor(private readonly deps: CheckRunnerDeps) {}

  /** Start check `index` of the packet for a lane in state `checking`. Never throws for a check that cannot start: it is red. */
  async start(lane: LaneRow, packet: TaskPacket, index: number): Promise<void> {
    const { db, events, supervisor } = this.deps;
    const check = packet.acceptance[index]!;
    const runs = parseCheckRuns(lane.checks);
    const run: CheckRun = {
      index,
      level: check.level,
      argv: check.argv,
      status: "running",
      processId: null,
      exitCode: null,
      durationMs: null,
      startedAt: new Date().toISOString(),
      endedAt: null,
    };
    try {
      const proc = await supervisor.start({ laneId: lane.id, role: "check", argv: check.argv, cwd: lane.worktreePath, confineTo: lane.worktreePath });
      run.processId = proc.id;
      await db.lane.update({ where: { id: lane.id }, data: { checks: JSON.stringify([...runs, run]) } });
      await events.append({ type: "check.started", laneId: lane.id, repoId: lane.repoId, payload: { processId: proc.id, level: check.level, command: check.argv } });
      const timer = setTimeout(() => void supervisor.kill(proc.id).catch(() => undefined), check.timeoutMs);
      timer.unref();
      void supervisor.waitForExit(proc.id).finally(() => clearTimeout(timer)).catch(() => undefined);
    } catch (err) {
      const reason = isAppError(err) ? err.message : String(err);
      run.status = "red";
      run.endedAt = new Date().toISOString();
      await db.lane.update({ where: { id: lane.id }, data: { checks: JSON.stringify([...runs, run]) } });
      await events.append({ type: "lane.red", laneId: lane.id, repoId: lane.repoId, payload: { level: check.level, command: check.argv, exitCode: null, durationMs: 0, failureClass: "infra" } });
      await this.deps.settle(lane, "failed", { exitCode: null, signal: null }, "infra", `check could not start: ${reason}`);
    }
  }

  async onCheckExit(lane: LaneRow, exit: ProcessExit): Promise<void> {
    const { db, events } = this.deps;
    if (lane.state !== "checking") return;
    const runs = parseCheckRuns(lane.checks);
    const run = runs.find((r) => r.processId === exit.processId);
    if (!run || run.status !== "running") return;
    const green = exit.status === "exited" && exit.exitCode === 0;
    run.status = green ? "green" : "red";
    run.exitCode = exit.exitCode;
    run.endedAt = new Date().toISOString();
    run.durationMs = Date.parse(run.endedAt) - Date.parse(run.startedAt);
    const updated = await db.lane.update({ where: { id: lane.id }, data: { checks: JSON.stringify(runs) } });
    const failureClass: FailureClass = exit.status === "exited" ? "test" : exit.status === "killed" ? "infra" : "lost";
    await events.append(
      green
        ? { type: "lane.green", laneId: lane.id, repoId: lane.repoId, payload: { level: run.level, command: run.argv, durationMs: run.durationMs } }
        : { type: "lane.red", laneId: lane.id, repoId: lane.repoId, payload: { level: run.level, command: run.argv, exitCode: exit.exitCode, durationMs: run.durationMs, failureClass } },
    );
    const packet = TaskPacketSchema.parse(JSON.parse(lane.packet));
    if (!green) return this.deps.settle(updated, "failed", exit, failureClass, `check ${run.argv.join(" ")} is red`);
    if (run.index + 1 < packet.acceptance.length) return this.start(updated, packet, run.index + 1);
    return this.deps.settle(updated, "finished", exit);
  }
}
