/**
 * Runs a lane's work: starts its worker process through the supervisor, follows the worker's
 * output through its engine adapter ({@link WorkerMonitor}: worker state transitions, activity,
 * usage, workspace binding), follows process exits (delivered on the bus, also for exits the
 * supervisor discovered after a server restart), hands a successful worker over to the
 * {@link CheckRunner} for the packet's acceptance checks, and settles the lane as finished,
 * failed, killed or lost.
 *
 * Exit of a worker → lane:
 * | exit | lane |
 * | --- | --- |
 * | killed / lost | `killed` / `lost` |
 * | the agent's `result` was `ok:false` (even with exit code 0) | `failed` with its failure class |
 * | non-zero exit code | `failed` (`tool_runtime`) |
 * | success of an agent engine with no commit and no change against the base | `lane.phantom_completion`, `failed` (`tool_runtime`, reason `phantom_completion: …`), never green |
 * | success | acceptance checks, else `finished` |
 *
 * Exit handling is event-driven, not an in-memory await, so a lane whose worker or check ended
 * while the server was down continues correctly after the restart.
 */
import type { TaskPacket } from "@/lib/task-packet";
import type { NewLaneEvent } from "@/lib/lane-events";
import { isAppError } from "@/lib/errors";
import type { FailureClass } from "@/lib/lane-state";
import type { WorkerError } from "@/lib/worker-state";
import type { EventBus, ProcessExit, ProcessOutput } from "../events/event-bus";
import { prepareWorker, type AgentEngineSettings } from "../engines/engine-command";
import type { ProcessSupervisor } from "../processes/supervisor";
import { dropFollowUp, readFollowUp } from "../workers/follow-up";
import { WorkerMonitor, type RunOutcome } from "../workers/worker-monitor";
import { applyWorkerEvent, createWorker } from "../workers/worker-state-machine";
import { detectPhantomCompletion } from "../workers/workspace-binding";
import type { ThrottleOptions } from "../workers/activity";
import type { InteractiveLaunch } from "../workers/interactive-driver";
import { promptPayload } from "../workers/prompt-event";
import { CheckRunner, type CheckHooks, type FailureDetails } from "../checks/check-runner";
import { laneDir } from "../records/lane-dir";
import { findLane, loadLane, transitionLane, updateLane, type LaneDeps, type LaneRow } from "../records/lane-store";
import { laneStartPoint } from "../events/start-point";
import { prepareDependentWorktree } from "./prepare-worktree";
import { laneStarted, recoverStarts, unspawnedWorker } from "./recover-starts";
import { localWorktree, type StartCheckout } from "./lane-worktree";
import { StartsInFlight } from "./starts-in-flight";
import { recoverChecks } from "./recover-checks";

export interface LaneRunnerDeps extends LaneDeps {
  supervisor: ProcessSupervisor;
  /** For the worker monitor's `lane.touched` notices. */
  bus: Pick<EventBus, "emit">;
  dataDir: string;
  /** This node's id (written to the lanes it starts). */
  nodeId: string;
  /** Server-wide settings of the agent engines (base URLs, keys, binaries, models, retries). */
  engineSettings?: AgentEngineSettings;
  /** Event throttling of worker activity (tests set 0 to see every tool call). */
  throttle?: Partial<ThrottleOptions>;
  /** Called after a lane's process ended, to refresh its branch freshness. */
  onLaneActivity: (laneId: string) => void;
  /** Classify a worker's non-zero exit (server/checks/classify-worker.ts); its class and evidence go into `lane.failed`. */
  classifyWorkerFailure: (lane: LaneRow, exit: ProcessExit) => Promise<({ failureClass: FailureClass } & FailureDetails) | null>;
  /** Freshness, policy and recovery around acceptance checks (server/checks/check-guard.ts); passed to the CheckRunner. */
  checkHooks: CheckHooks;
  /** New lanes' worktrees, checked out after their create answered (./worktree-checkouts.ts). */
  checkouts: StartCheckout;
  /** Starts `worker.mode: "interactive"` agents in tmux (server/workers/interactive-driver.ts). */
  interactive: { launch(input: InteractiveLaunch): Promise<{ argv: string[]; stop(): Promise<void> }> };
}

type Exit = { exitCode: number | null; signal: string | null };

export class LaneRunner {
  /** Exits that arrived while their lane was still being started; replayed once it runs. */
  readonly #deferred = new Map<string, ProcessExit[]>();
  /** In-flight starts, so a kill that arrives mid-start can wait for the process to exist. */
  readonly #starts = new StartsInFlight();

  readonly #checks: CheckRunner;
  readonly monitor: WorkerMonitor;

  constructor(private readonly deps: LaneRunnerDeps) {
    this.#checks = new CheckRunner({ ...deps, settle: (...args) => this.settle(...args) });
    this.monitor = new WorkerMonitor({
      db: deps.db,
      events: deps.events,
      bus: deps.bus,
      supervisor: deps.supervisor,
      whenStarted: (laneId) => this.whenStarted(laneId),
      stopLane: (laneId, failureClass, reason) => this.stopLane(laneId, failureClass, reason),
      dataDir: deps.dataDir,
      throttle: deps.throttle,
    });
  }

  /**
   * Start a queued lane's worker. Loses quietly (returns false) if the lane is no longer queued.
   * A spawn failure settles the lane as failed (class `infra` or `tool_runtime`) with an event.
   */
  start(laneId: string): Promise<boolean> {
    return this.#starts.run(laneId, () => this.#start(laneId), (existing) => existing);
  }

  /** Resolves when an in-flight start of the lane (if any) has finished, its records written. */
  whenStarted(laneId: string): Promise<void> {
    return this.#starts.whenDone(laneId);
  }

  /**
   * Resolves once an in-flight start of the lane (if any) has spawned its worker process, or is
   * over: what a kill needs. Its records may wait much longer, as long as a full disk refuses them.
   */
  whenSpawned(laneId: string): Promise<void> {
    return this.#starts.whenSpawned(laneId);
  }

  /**
   * Start the worker of a lane the cluster's dispatcher claimed for this node (it is `starting`
   * with this node's id and `attempt`). Idempotent: a job delivered twice, or for an attempt
   * that is over, starts nothing.
   * @returns true when this call started the worker
   */
  runClaimed(laneId: string, attempt: number): Promise<boolean> {
    return this.#startOnce(laneId, async () => {
      const lane = await findLane(this.deps.db, laneId);
      if (!lane || lane.state !== "starting" || lane.nodeId !== this.deps.nodeId || lane.attempt !== attempt) return false;
      if (await this.deps.db.worker.findFirst({ where: { laneId, attempt }, select: { id: true } })) return false;
      return this.#run(lane);
    });
  }

  /**
   * Make again the start of a lane a stopped server left `starting` before its worker ran
   * (recover-starts.ts): in place, the same attempt and worker row, the start's follow-up prompt
   * still there. @returns true when this call started it (false: a start is already under way)
   */
  startAgain(lane: LaneRow): Promise<boolean> {
    return this.#startOnce(lane.id, () => this.#run(lane));
  }

  /** Run `start` unless a start of the lane is under way (then false once that one is done). */
  #startOnce(laneId: string, start: () => Promise<boolean>): Promise<boolean> {
    return this.#starts.run(laneId, start, (existing) => existing.then(() => false));
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
      nodeId: this.deps.nodeId,
    });
    if (!started) return false;
    return this.#run(started);
  }

  /** Start the worker of a lane in `starting`; exits that arrive meanwhile are replayed after. */
  async #run(claimed: LaneRow): Promise<boolean> {
    const laneId = claimed.id;
    this.#deferred.set(laneId, []);
    try {
      let started: LaneRow;
      try {
        started = await localWorktree(this.deps, claimed);
      } catch (err) {
        const message = `no worktree for branch ${claimed.branch} on node ${this.deps.nodeId}: ${err instanceof Error ? err.message : String(err)}`;
        await this.settle(claimed, "failed", { exitCode: null, signal: null }, "infra", message);
        return true;
      }
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
    const packet = started.packet;
    const workspace = await prepareDependentWorktree(this.deps, started).catch((err: unknown) => ({
      ok: false as const,
      failureClass: "infra" as const,
      failureReason: "git_failed",
      reason: `preparing the worktree: ${err instanceof Error ? err.message : String(err)}`,
      evidence: [],
    }));
    if (!workspace.ok) {
      const details = { failureReason: workspace.failureReason, summary: workspace.reason, evidence: workspace.evidence, role: "worker" as const };
      await this.settle(started, "failed", { exitCode: null, signal: null }, workspace.failureClass, workspace.reason, details);
      return true;
    }
    // Removed once the worker is spawned, so a start cut before that is made again with it.
    const followUp = await readFollowUp(laneDir(this.deps.dataDir, laneId), started.attempt);
    const spec = followUp ? { ...packet.worker, prompt: followUp.prompt } : packet.worker;
    const worker = (await unspawnedWorker(db, laneId, started.attempt)) ?? (await createWorker(this.deps, { laneId, repoId: started.repoId, engine: spec.engine, attempt: started.attempt, prompt: spec.prompt ?? null }));
    if (spec.mode === "interactive") return this.#startInteractive(started, worker.id, spec);
    try {
      const prepared = await prepareWorker(
        spec,
        { laneDir: laneDir(this.deps.dataDir, laneId), worktreePath: started.worktreePath, ...(followUp ? { resumeSessionId: followUp.sessionId } : {}) },
        this.deps.engineSettings,
      );
      const proc = await supervisor.start({
        laneId,
        role: "worker",
        argv: prepared.argv,
        cwd: started.worktreePath,
        env: prepared.env,
        secretEnv: prepared.secretEnv,
        confineTo: started.worktreePath,
        ...(prepared.stdin ? { stdin: prepared.stdin } : {}),
      });
      this.#starts.spawned(laneId);
      if (followUp) await dropFollowUp(laneDir(this.deps.dataDir, laneId));
      // The worker runs from here on: a write refused for lack of space (or a busy database) is
      // handed to the supervisor's outbox, which keeps it until it lands (behind the process's own
      // events), so the lane is never left `starting` beside its running worker.
      const row = await supervisor.writes.until(() => db.worker.update({ where: { id: worker.id }, data: { processId: proc.id, ...(followUp ? { sessionId: followUp.sessionId } : {}) } }));
      const adapter = prepared.createAdapter?.() ?? null;
      this.monitor.register({ processId: proc.id, worker: row, lane: started, adapter });
      await supervisor.writes.until(async () => {
        const now = await loadLane(db, laneId);
        if (now.state === "starting") await transitionLane(this.deps, now, "running", {}, [laneStarted(started, worker.id, proc)]);
      });
      // Headless agents take their prompt at start: record it so the conversation can be read from the events.
      if (adapter && spec.prompt) await events.append({ type: "worker.prompted", laneId, repoId: started.repoId, payload: promptPayload(worker.id, spec.prompt, followUp ? "follow_up" : "packet") });
      if (!adapter) await this.monitor.started(proc.id);
      return true;
    } catch (err) {
      return this.#startFailed(started, worker.id, err);
    }
  }

  /**
   * An interactive agent: its tmux session is started by the driver, and the supervisor runs the
   * driver's host process, whose exit is the worker's (see interactive-driver.ts). The worker's
   * states come from the session's screens, so there is no adapter and no `monitor.started`.
   */
  async #startInteractive(started: LaneRow, workerId: string, spec: TaskPacket["worker"]): Promise<boolean> {
    const { db, supervisor } = this.deps;
    let stop: (() => Promise<void>) | null = null;
    try {
      const repo = await db.repo.findUniqueOrThrow({ where: { id: started.repoId } });
      const host = await this.deps.interactive.launch({ workerId, laneDir: laneDir(this.deps.dataDir, started.id), worktreePath: started.worktreePath, repoPath: repo.path, spec });
      stop = host.stop;
      const proc = await supervisor.start({ laneId: started.id, role: "worker", argv: host.argv, cwd: started.worktreePath, env: {}, confineTo: started.worktreePath });
      this.#starts.spawned(started.id);
      const row = await db.worker.update({ where: { id: workerId }, data: { processId: proc.id } });
      this.monitor.register({ processId: proc.id, worker: row, lane: started, adapter: null });
      await transitionLane(this.deps, started, "running", {}, [laneStarted(started, workerId, proc)]);
      return true;
    } catch (err) {
      await stop?.().catch(() => undefined);
      return this.#startFailed(started, workerId, err);
    }
  }

  async #startFailed(started: LaneRow, workerId: string, err: unknown): Promise<boolean> {
    const reason = isAppError(err) ? err.message : String(err);
    const failureClass: FailureClass = isAppError(err) ? "tool_runtime" : "infra";
    const error: WorkerError = { failureClass, message: `worker could not start: ${reason}`, at: new Date().toISOString() };
    await applyWorkerEvent(this.deps, workerId, "fail", { repoId: started.repoId, data: { lastError: JSON.stringify(error) } });
    await this.settle(started, "failed", { exitCode: null, signal: null }, failureClass, error.message);
    return true;
  }

  /**
   * Lanes a stopped server left `starting`, completed or started again ({@link recoverStarts}),
   * then those it left `checking` with a check cut before it ran, whose check starts again ({@link recoverChecks}).
   */
  async recoverStarts(): Promise<{ completed: string[]; startedAgain: string[]; checksAgain: string[] }> {
    const starts = await recoverStarts(this, this.deps);
    return { ...starts, checksAgain: await recoverChecks(this.#checks, this.deps) };
  }

  /** Exit handling under way, by process id (see {@link whenExitHandled}). */
  readonly #exitsInFlight = new Map<string, Promise<void>>();

  /** Bus listener for `process.exit`; never throws (errors are logged). */
  handleProcessExit = (exit: ProcessExit): void => {
    if (!exit.laneId) return;
    const handled = this.#onExit(exit)
      .catch((err) => console.error(`[lanes] exit handling for ${exit.processId} failed`, err))
      .finally(() => this.#exitsInFlight.delete(exit.processId));
    this.#exitsInFlight.set(exit.processId, handled);
  };

  /**
   * Resolves once the runner has recorded what a process's exit means for its lane and worker
   * (at once when nothing is under way). The supervisor announces an exit before its `kill`
   * resolves, so a caller that killed a process and awaits this reads the worker's end state.
   */
  whenExitHandled(processId: string): Promise<void> {
    return this.#exitsInFlight.get(processId) ?? Promise.resolve();
  }

  /** Bus listener for `process.output`: worker stdout goes to its engine adapter. Never throws. */
  handleProcessOutput = (batch: ProcessOutput): void => this.monitor.handleOutput(batch);

  async #onExit(exit: ProcessExit): Promise<void> {
    const { db } = this.deps;
    const deferred = this.#deferred.get(exit.laneId!);
    if (deferred) {
      deferred.push(exit); // the lane's `starting → running` write has not landed yet
      return;
    }
    if (exit.role === "worker") {
      // A worker that never ran (its start was cut by a stop) tells the lane nothing: the start is made again (recover-starts.ts).
      if (exit.status === "spawn_failed") return;
      // First let the monitor see the last output and record the worker's end.
      const outcome = await this.monitor.finish(exit);
      const lane = await findLane(db, exit.laneId!);
      if (lane) await this.#onWorkerExit(lane, exit, outcome);
    } else if (exit.role === "check") {
      const lane = await findLane(db, exit.laneId!);
      if (lane) await this.#checks.onCheckExit(lane, exit);
    } else return; // background processes: the ref watcher sees any commit they make, so no git refresh per exit
    this.deps.onLaneActivity(exit.laneId!);
  }

  async #onWorkerExit(lane: LaneRow, exit: ProcessExit, outcome: RunOutcome | null): Promise<void> {
    const { db } = this.deps;
    if (lane.state !== "running") return; // killed, stopped or settled by someone else
    const updated = await updateLane(db, lane.id, { lastExitCode: exit.exitCode });
    if (exit.status === "killed") return this.settle(updated, "killed", exit, "killed", "killed");
    if (exit.status === "lost") return this.settle(updated, "lost", exit, "lost", "worker process lost");
    const result = outcome?.result;
    if (result && !result.ok) {
      // The engine's class wins; the classification adds the reason (e.g. rate_limited) and evidence recovery needs.
      const verdict = await this.deps.classifyWorkerFailure(updated, exit).catch(() => null);
      return this.settle(updated, "failed", exit, result.failureClass ?? verdict?.failureClass ?? "tool_runtime", result.text || "the agent reported a failure", verdict ?? undefined);
    }
    if (exit.exitCode !== 0) {
      const verdict = await this.deps.classifyWorkerFailure(updated, exit).catch(() => null);
      return this.settle(updated, "failed", exit, verdict?.failureClass ?? "tool_runtime", verdict?.summary ?? `worker exited with ${exit.exitCode ?? exit.signal}`, verdict ?? undefined);
    }
    if (outcome?.structured && (await this.#phantom(updated, outcome.workerId, exit))) return;
    const packet = lane.packet;
    if (packet.acceptance.length === 0) return this.settle(updated, "finished", exit);
    const checking = await transitionLane(this.deps, updated, "checking");
    if (checking) await this.#checks.start(checking, packet, 0);
  }

  /**
   * Phantom completion: an agent that reported success but left no commit and no change against
   * the lane's base. Emits `lane.phantom_completion` and fails the lane; true when it did.
   */
  async #phantom(lane: LaneRow, workerId: string, exit: Exit): Promise<boolean> {
    const start = await laneStartPoint(this.deps.db, lane);
    if (!start) return false;
    const found = await detectPhantomCompletion(lane.worktreePath, start).catch(() => null);
    if (!found?.phantom) return false;
    await this.deps.events.append({ type: "lane.phantom_completion", laneId: lane.id, repoId: lane.repoId, payload: { workerId, baseSha: start, head: found.head } });
    const reason = `phantom_completion: the worker reported success but there is no commit and no change against ${lane.baseBranch} (${start.slice(0, 12)})`;
    // A worker failure like any other, so recovery applies its own recipe (inspect, never rerun).
    await this.settle(lane, "failed", exit, "tool_runtime", reason, { failureReason: "phantom_completion", summary: reason, role: "worker" });
    return true;
  }

  /**
   * Fail a live lane with `failureClass` and stop its worker process group (without waiting for
   * it to be gone). Used for a workspace mismatch and for a prompt that could not be delivered.
   * Does nothing for a lane that is not live.
   */
  async stopLane(laneId: string, failureClass: FailureClass, reason: string): Promise<void> {
    const { db, supervisor } = this.deps;
    const lane = await findLane(db, laneId);
    if (!lane || !["starting", "running"].includes(lane.state)) return;
    const proc = await db.process.findFirst({ where: { laneId, role: "worker", status: { in: ["starting", "running"] } }, orderBy: { createdAt: "desc" } });
    // Settle first, so the process's exit is not read as the lane's outcome.
    await this.settle(lane, "failed", { exitCode: null, signal: null }, failureClass, reason, { failureReason: failureClass, summary: reason });
    if (proc) void supervisor.kill(proc.id).catch(() => undefined);
  }

  /**
   * Move a live lane to a terminal state with its closing event. The scheduler frees the slot and
   * dispatches again from these events (server/scheduler/scheduler.ts `#onLaneEvent`).
   */
  async settle(
    lane: LaneRow,
    to: "finished" | "failed" | "killed" | "lost",
    exit: Exit,
    failureClass?: FailureClass,
    reason?: string,
    details?: FailureDetails,
  ): Promise<void> {
    const closing: NewLaneEvent[] =
      to === "finished"
        ? [{ type: "lane.finished", laneId: lane.id, repoId: lane.repoId, payload: exit }]
        : to === "failed" || to === "lost"
          ? [{ type: "lane.failed", laneId: lane.id, repoId: lane.repoId, payload: { ...details, ...exit, failureClass: failureClass ?? "infra", reason: reason ?? to } }]
          : [];
    await transitionLane(this.deps, lane, to, { endedAt: new Date() }, closing);
  }
}
