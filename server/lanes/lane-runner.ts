/**
 * Runs a lane's work: starts its worker process through the supervisor, follows process exits
 * (delivered on the bus, also for exits the supervisor discovered after a server restart), hands
 * a successful worker over to the {@link CheckRunner} for the packet's acceptance checks, and
 * settles the lane as finished, failed, killed or lost.
 *
 * Exit handling is event-driven, not an in-memory await, so a lane whose worker or check ended
 * while the server was down continues correctly after the restart.
 */
import path from "node:path";
import { TaskPacketSchema, type TaskPacket } from "@/lib/task-packet";
import { isAppError } from "@/lib/errors";
import type { FailureClass } from "@/lib/lane-state";
import type { ProcessExit } from "../events/event-bus";
import { prepareWorker } from "../engines/engine-command";
import type { ProcessSupervisor } from "../processes/supervisor";
import { CheckRunner } from "./check-runner";
import { loadLane, transitionLane, type LaneDeps, type LaneRow } from "./lane-store";

export interface LaneRunnerDeps extends LaneDeps {
  supervisor: ProcessSupervisor;
  dataDir: string;
  /** Called whenever a lane leaves a live state, so the scheduler can fill the slot. */
  onSlotFreed: () => void;
  /** Called after a lane's process ended, to refresh its branch freshness. */
  onLaneActivity: (laneId: string) => void;
}

export class LaneRunner {
  /** Exits that arrived while their lane was still being started; replayed once it runs. */
  readonly #deferred = new Map<string, ProcessExit[]>();
  /** In-flight starts, so a kill that arrives mid-start can wait for the process to exist. */
  readonly #starts = new Map<string, Promise<boolean>>();

  readonly #checks: CheckRunner;

  constructor(private readonly deps: LaneRunnerDeps) {
    this.#checks = new CheckRunner({ ...deps, settle: (...args) => this.settle(...args) });
  }

  laneDir(laneId: string): string {
    return path.join(this.deps.dataDir, "lanes", laneId);
  }

  /**
   * Start a queued lane's worker. Loses quietly (returns false) if the lane is no longer queued.
   * A spawn failure settles the lane as failed (class `infra` or `tool_runtime`) with an event.
   */
  start(laneId: string): Promise<boolean> {
    const existing = this.#starts.get(laneId);
    if (existing) return existing;
    const p = this.#start(laneId).finally(() => this.#starts.delete(laneId));
    this.#starts.set(laneId, p);
    return p;
  }

  /** Resolves when an in-flight start of the lane (if any) has finished. */
  async whenStarted(laneId: string): Promise<void> {
    await this.#starts.get(laneId)?.catch(() => undefined);
  }

  async #start(laneId: string): Promise<boolean> {
    const { db } = this.deps;
    const lane = await loadLane(db, laneId);
    if (lane.state !== "queued") return false;
    const started = await transitionLane(this.deps, lane, "starting", {
      attempt: lane.attempt + 1,
      startedAt: new Date(),
      endedAt: null,
      lastExitCode: null,
      checks: "[]",
    });
    if (!started) return false;
    this.#deferred.set(laneId, []);
    try {
      return await this.#startWorker(started);
    } finally {
      const pending = this.#deferred.get(laneId) ?? [];
      this.#deferred.delete(laneId);
      for (const exit of pending) this.handleProcessExit(exit);
    }
  }

  async #startWorker(started: LaneRow): Promise<boolean> {
    const { db, events, supervisor } = this.deps;
    const laneId = started.id;
    const lane = started;
    const packet = TaskPacketSchema.parse(JSON.parse(started.packet));
    const worker = await db.worker.create({
      data: { laneId, engine: packet.worker.engine, state: "spawning", attempt: started.attempt },
    });
    await events.append({ type: "worker.state_changed", laneId, repoId: lane.repoId, payload: { workerId: worker.id, from: null, to: "spawning" } });
    try {
      const { argv, env } = await prepareWorker(packet.worker, { laneDir: this.laneDir(laneId), worktreePath: started.worktreePath });
      const proc = await supervisor.start({ laneId, role: "worker", argv, cwd: started.worktreePath, env, confineTo: started.worktreePath });
      await db.worker.update({ where: { id: worker.id }, data: { processId: proc.id, state: "running" } });
      await events.append({ type: "worker.state_changed", laneId, repoId: lane.repoId, payload: { workerId: worker.id, from: "spawning", to: "running" } });
      await transitionLane(this.deps, started, "running");
      await events.append({
        type: "lane.started",
        laneId,
        repoId: lane.repoId,
        payload: { workerId: worker.id, processId: proc.id, pid: proc.pid ?? -1, attempt: started.attempt },
      });
      return true;
    } catch (err) {
      const reason = isAppError(err) ? err.message : String(err);
      await db.worker.update({ where: { id: worker.id }, data: { state: "failed", endedAt: new Date() } });
      await events.append({ type: "worker.state_changed", laneId, repoId: lane.repoId, payload: { workerId: worker.id, from: "spawning", to: "failed" } });
      await this.settle(started, "failed", { exitCode: null, signal: null }, isAppError(err) ? "tool_runtime" : "infra", `worker could not start: ${reason}`);
      return true;
    }
  }

  /** Bus listener for `process.exit`; never throws (errors are logged). */
  handleProcessExit = (exit: ProcessExit): void => {
    if (!exit.laneId) return;
    void this.#onExit(exit).catch((err) => console.error(`[lanes] exit handling for ${exit.processId} failed`, err));
  };

  async #onExit(exit: ProcessExit): Promise<void> {
    const { db } = this.deps;
    const deferred = this.#deferred.get(exit.laneId!);
    if (deferred) {
      deferred.push(exit); // the lane's `starting → running` write has not landed yet
      return;
    }
    const lane = await db.lane.findUnique({ where: { id: exit.laneId! } });
    if (!lane) return;
    if (exit.role === "worker") await this.#onWorkerExit(lane, exit);
    else if (exit.role === "check") await this.#checks.onCheckExit(lane, exit);
    this.deps.onLaneActivity(lane.id);
  }

  async #onWorkerExit(lane: LaneRow, exit: ProcessExit): Promise<void> {
    const { db, events } = this.deps;
    const worker = await db.worker.findUnique({ where: { processId: exit.processId } });
    const workerState = exit.status === "killed" ? "killed" : exit.status === "lost" ? "lost" : exit.exitCode === 0 ? "finished" : "failed";
    if (worker) {
      await db.worker.update({ where: { id: worker.id }, data: { state: workerState, endedAt: new Date() } });
      await events.append({ type: "worker.state_changed", laneId: lane.id, repoId: lane.repoId, payload: { workerId: worker.id, from: worker.state as "running", to: workerState } });
    }
    if (lane.state !== "running") return; // killed or settled by someone else
    await db.lane.update({ where: { id: lane.id }, data: { lastExitCode: exit.exitCode } });
    if (exit.status === "killed") return this.settle(lane, "killed", exit, "killed", "killed");
    if (exit.status === "lost") return this.settle(lane, "lost", exit, "lost", "worker process lost");
    if (exit.exitCode !== 0) {
      return this.settle(lane, "failed", exit, "tool_runtime", `worker exited with ${exit.exitCode ?? exit.signal}`);
    }
    const packet: TaskPacket = TaskPacketSchema.parse(JSON.parse(lane.packet));
    if (packet.acceptance.length === 0) return this.settle(lane, "finished", exit);
    const checking = await transitionLane(this.deps, lane, "checking");
    if (checking) await this.#checks.start(checking, packet, 0);
  }

  /** Move a live lane to a terminal state with its closing event; frees the scheduler slot. */
  async settle(
    lane: LaneRow,
    to: "finished" | "failed" | "killed" | "lost",
    exit: { exitCode: number | null; signal: string | null },
    failureClass?: FailureClass,
    reason?: string,
  ): Promise<void> {
    const { events } = this.deps;
    const done = await transitionLane(this.deps, lane, to, { endedAt: new Date() });
    if (!done) return;
    if (to === "finished") await events.append({ type: "lane.finished", laneId: lane.id, repoId: lane.repoId, payload: exit });
    else if (to === "failed" || to === "lost")
      await events.append({ type: "lane.failed", laneId: lane.id, repoId: lane.repoId, payload: { ...exit, failureClass: failureClass ?? "infra", reason: reason ?? to } });
    this.deps.onSlotFreed();
  }
}
