/**
 * Follows running workers through their engine's stdout adapter and turns the
 * {@link EngineSignal}s into worker state transitions and lane events:
 *
 * | signal | effect |
 * | --- | --- |
 * | `ready` | `spawning → ready_for_prompt` (+ `lane.ready`) `→ prompt_accepted → running` (the prompt went in through the prompt file); the agent's session id is kept |
 * | `tool_use` | `worker.activity` (throttled, see ./activity.ts); its paths are checked against the worktree |
 * | `tool_result` | `worker.activity` when it failed |
 * | `usage` | running totals on the Worker row; `worker.usage` (throttled) |
 * | `result` | `worker.activity` final message; `ok:false` fails the lane with its class at exit, even for exit code 0 |
 * | `warning` | `warning` with class `tool_runtime` (capped per run) |
 * A path outside the worktree (cwd or tool input) → `branch.workspace_mismatch`, worker
 * `killed`, lane `failed` (`workspace_mismatch`), process group killed.
 *
 * Ordering: output batches of one process are handled strictly one after another (a promise
 * chain per process), and {@link WorkerMonitor.finish} runs on the same chain, so the exit is
 * decided only after every line has been seen. After a server restart the adapter is rebuilt
 * by re-feeding the stdout log from offset 0 up to the first line not yet handled, without
 * emitting anything for those lines.
 */
import { decodeChunk } from "@/lib/log-chunk";
import type { FailureClass, WorkerState } from "@/lib/lane-state";
import type { WorkerError, WorkerUsage } from "@/lib/worker-state";
import type { EventBus, ProcessExit, ProcessOutput } from "../events/event-bus";
import { createEngineAdapter } from "../engines/engine-command";
import type { EngineAdapter, EngineSignal } from "../engines/engine-events";
import { clip } from "../engines/engine-events";
import type { ProcessSupervisor } from "../processes/supervisor";
import { laneDir } from "../records/lane-dir";
import { ActivityThrottle, DEFAULT_THROTTLE, describeToolUse, type ThrottleOptions } from "./activity";
import { WorkspaceBinding, type WorkspaceViolation } from "./workspace-binding";
import { applyWorkerEvent, nextWorkerState, TERMINAL_WORKER_STATES, transitionWorker, type WorkerDeps, type WorkerEvent, type WorkerRow } from "./worker-state-machine";

type ResultSignal = Extract<EngineSignal, { kind: "result" }>;

export interface WorkerMonitorDeps extends WorkerDeps {
  supervisor: ProcessSupervisor;
  /** `lane.touched` when a usage report is written with no event after it (throttled). */
  bus: Pick<EventBus, "emit">;
  /** Resolves when an in-flight start of the lane has finished (so its run is registered). */
  whenStarted: (laneId: string) => Promise<void>;
  /** Fail a live lane with a class and stop its worker process (the lane runner's). */
  stopLane: (laneId: string, failureClass: FailureClass, reason: string) => Promise<void>;
  /** Data directory: a lane's private directory there is a read root besides the worktree (the agent's HOME is in it). */
  dataDir: string;
  throttle?: Partial<ThrottleOptions>;
  /** Clock for throttling (ms); default Date.now. */
  now?: () => number;
}

/** How a worker run ended, as the lane runner needs it. */
export interface RunOutcome {
  workerId: string;
  /** Whether the run had a stdout adapter (agent engines). */
  structured: boolean;
  /** The agent's own final result (after `adapter.end`), null without an adapter. */
  result: ResultSignal | null;
  /** The run was stopped early (workspace mismatch: the lane is already failed) or had ended before a restart. */
  stopped: boolean;
}

interface Run {
  processId: string;
  workerId: string;
  laneId: string;
  repoId: string | null;
  engine: string;
  adapter: EngineAdapter | null;
  binding: WorkspaceBinding;
  throttle: ActivityThrottle;
  result: ResultSignal | null;
  usage: WorkerUsage | null;
  stopped: boolean;
}

/** Pages of the stdout log read when rebuilding an adapter (lines). */
const REPLAY_PAGE_LINES = 5000;

export class WorkerMonitor {
  readonly #runs = new Map<string, Run>();
  readonly #chains = new Map<string, Promise<unknown>>();
  /** Process ids known not to be workers (checks, background jobs), so their output costs no query. */
  readonly #notWorkers = new Set<string>();
  readonly #throttle: ThrottleOptions;
  readonly #now: () => number;

  constructor(private readonly deps: WorkerMonitorDeps) {
    this.#throttle = { ...DEFAULT_THROTTLE, ...deps.throttle };
    this.#now = deps.now ?? Date.now;
  }

  /** Follow a worker process the lane runner has just started. */
  register(input: { processId: string; worker: WorkerRow; lane: { id: string; repoId: string; worktreePath: string }; adapter: EngineAdapter | null }): void {
    this.#runs.set(input.processId, this.#newRun(input.processId, input.worker, input.lane, input.adapter));
  }

  /**
   * For engines without structured output (shell, script): the command runs, so the worker is
   * ready and working at once (`spawning → running`, `lane.ready`).
   */
  async started(processId: string): Promise<void> {
    const run = this.#runs.get(processId);
    if (!run) return;
    const row = await applyWorkerEvent(this.deps, run.workerId, "work_started", { repoId: run.repoId, data: { readyAt: new Date() } });
    if (row) await this.deps.events.append({ type: "lane.ready", laneId: run.laneId, repoId: run.repoId, payload: { workerId: run.workerId } });
  }

  /** Batches of worker output seen and, of those, passed over because nothing follows them (diagnostics and tests). */
  readonly stats = { batches: 0, passedOver: 0 };

  /** Bus listener for `process.output`; never throws. */
  handleOutput = (batch: ProcessOutput): void => {
    // Checks and background jobs have no engine output to follow.
    if (!batch.laneId || batch.role !== "worker" || this.#notWorkers.has(batch.processId)) return;
    const { laneId, processId } = batch;
    this.stats.batches++;
    // A known run without an adapter (shell, script) or one already stopped reads none of its
    // lines: decoding them and queueing a step per batch cost the server ~15% of its CPU with
    // 100 script lanes printing (2,000 lines/s). A run not known yet takes the full path: it may
    // be registered while the batch waits for the lane's start, or rebuilt after a restart.
    const known = this.#runs.get(processId);
    if (known && (!known.adapter || known.stopped)) {
      this.stats.passedOver++;
      return;
    }
    const stdout = batch.chunks.filter((c) => c.stream === "stdout");
    if (stdout.length === 0) return;
    // Decoded now: chunk bytes are only valid during this call (event-bus.ts `process.output`).
    const from = stdout[0]!.offset;
    const texts = stdout.flatMap((c) => decodeChunk(processId, c).map((l) => l.text));
    void this.#enqueue(processId, () => this.#onBatch(laneId, processId, from, texts)).then(() => {
      if (this.#notWorkers.has(processId)) this.#chains.delete(processId); // a check or background job: nothing to follow
    });
  };

  /**
   * The worker process ended: after every output batch has been handled, end the adapter, apply
   * its last signals, flush throttled events and move the worker to its final state
   * (`finish` only for exit 0 with a successful result; killed/lost processes → `kill`/`lose`).
   * @returns the outcome, or null when the process is not a known worker
   */
  finish(exit: ProcessExit): Promise<RunOutcome | null> {
    return this.#enqueue(exit.processId, async () => {
      try {
        return await this.#finish(exit);
      } finally {
        this.#runs.delete(exit.processId);
      }
    }).finally(() => this.#chains.delete(exit.processId)) as Promise<RunOutcome | null>;
  }

  #enqueue<T>(processId: string, fn: () => Promise<T>): Promise<T | null> {
    const prev = this.#chains.get(processId) ?? Promise.resolve();
    const next = prev.then(fn).catch((err: unknown) => {
      console.error(`[workers] handling output of ${processId} failed`, err);
      return null;
    });
    this.#chains.set(processId, next);
    return next;
  }

  /** Feed stdout lines (`texts`, the first starting at logical offset `from`) to the run's adapter. */
  async #onBatch(laneId: string, processId: string, from: number, texts: string[]): Promise<void> {
    await this.deps.whenStarted(laneId);
    const run = this.#runs.get(processId) ?? (await this.#rebuild(processId, from));
    if (!run?.adapter) return;
    for (const text of texts) {
      if (run.stopped) return;
      await this.#apply(run, run.adapter.feed(text));
    }
  }

  async #finish(exit: ProcessExit): Promise<RunOutcome | null> {
    const run = this.#runs.get(exit.processId) ?? (await this.#rebuild(exit.processId, null));
    if (!run) return null;
    if (run.adapter && !run.stopped) await this.#apply(run, run.adapter.end({ exitCode: exit.exitCode, signal: exit.signal }));
    if (run.throttle.flushUsage() && run.usage) await this.#append(run, { type: "worker.usage", payload: { workerId: run.workerId, ...run.usage } });
    const suppressed = run.throttle.flushWarnings();
    if (suppressed > 0) await this.#append(run, { type: "warning", payload: { failureClass: "tool_runtime", message: `${run.engine}: ${suppressed} more warnings were not recorded` } });
    const outcome: RunOutcome = { workerId: run.workerId, structured: run.adapter !== null, result: run.result, stopped: run.stopped };
    if (run.stopped) return outcome;
    let { event, error } = this.#exitEvent(run, exit);
    const row = await this.deps.db.worker.findUnique({ where: { id: run.workerId } });
    // `finish` is allowed only once the agent was ready: a success before that is a failure to boot.
    if (event === "finish" && row && !nextWorkerState(row.state as WorkerState, "finish")) {
      event = "fail";
      error = { failureClass: "tool_runtime", message: `${run.engine} exited before it reported ready`, at: new Date().toISOString() };
      outcome.result = { kind: "result", ok: false, text: error.message, failureClass: "tool_runtime" };
    }
    await applyWorkerEvent(this.deps, run.workerId, event, { repoId: run.repoId, data: error ? { lastError: JSON.stringify(error) } : {} });
    return outcome;
  }

  /** The worker event for a process exit, and the error to record with it. */
  #exitEvent(run: Run, exit: ProcessExit): { event: WorkerEvent; error: WorkerError | null } {
    const at = new Date().toISOString();
    if (exit.status === "killed") return { event: "kill", error: null };
    if (exit.status === "lost") return { event: "lose", error: { failureClass: "lost", message: "worker process lost", at } };
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    if (run.result && !run.result.ok) return { event: "fail", error: { failureClass: run.result.failureClass ?? "tool_runtime", message: run.result.text || how, at } };
    if (exit.exitCode !== 0) return { event: "fail", error: { failureClass: "tool_runtime", message: `${run.engine} ${how}`, at } };
    return { event: "finish", error: null };
  }

  /** Bookkeeping kept also while replaying (no events). */
  #observe(run: Run, s: EngineSignal): void {
    if (s.kind === "result") run.result = s;
    else if (s.kind === "usage") run.usage = { inputTokens: s.inputTokens, outputTokens: s.outputTokens, costUsd: s.costUsd ?? run.usage?.costUsd ?? null };
  }

  async #apply(run: Run, signals: EngineSignal[]): Promise<void> {
    for (const s of signals) {
      if (run.stopped) return;
      this.#observe(run, s);
      const violation = run.binding.check(s);
      if (violation) return this.#stopForMismatch(run, violation);
      await this.#signal(run, s);
    }
  }

  async #signal(run: Run, s: EngineSignal): Promise<void> {
    const now = this.#now();
    const workerId = run.workerId;
    switch (s.kind) {
      case "ready":
        return this.#onReady(run, s.sessionId);
      case "tool_use": {
        const skipped = run.throttle.toolUse(now);
        if (skipped === null) return;
        return this.#append(run, { type: "worker.activity", payload: { workerId, kind: "tool_use", name: s.name, detail: describeToolUse(s.input), ...(skipped ? { skipped } : {}) } });
      }
      case "tool_result": {
        if (!s.isError) return;
        const skipped = run.throttle.forced(now);
        return this.#append(run, { type: "worker.activity", payload: { workerId, kind: "tool_error", detail: clip(s.text, 240), ...(skipped ? { skipped } : {}) } });
      }
      case "usage":
        await this.deps.db.worker.update({ where: { id: workerId }, data: { usage: JSON.stringify(run.usage) } });
        if (run.throttle.usage(now)) await this.#append(run, { type: "worker.usage", payload: { workerId, ...run.usage! } });
        else this.deps.bus.emit("lane.touched", { laneId: run.laneId });
        return;
      case "result": {
        if (!s.text) return;
        const skipped = run.throttle.forced(now);
        return this.#append(run, { type: "worker.activity", payload: { workerId, kind: "final_message", detail: clip(s.text, 1000), ...(skipped ? { skipped } : {}) } });
      }
      case "warning":
        if (!run.throttle.warning()) return;
        return this.#append(run, {
          type: "warning",
          payload: { failureClass: "tool_runtime", message: clip(`${run.engine}: ${s.message}${s.line ? ` (line: ${s.line})` : ""}`, 600) },
        });
      case "message":
        return;
    }
  }

  /** Headless agents take their prompt from the prompt file: ready, accepted and running at once. */
  async #onReady(run: Run, sessionId: string | undefined): Promise<void> {
    const row = await this.deps.db.worker.findUnique({ where: { id: run.workerId } });
    if (!row || row.state !== "spawning") return; // a second init line (or a stopped worker) changes nothing
    const deps = this.deps;
    const repoId = run.repoId;
    const ready = await transitionWorker(deps, row, "ready", { repoId, data: { readyAt: new Date(), ...(sessionId ? { sessionId } : {}) } });
    if (!ready) return;
    await deps.events.append({ type: "lane.ready", laneId: run.laneId, repoId, payload: { workerId: run.workerId } });
    const accepted = await transitionWorker(deps, ready, "prompt_sent", { repoId, data: { promptDeliveries: ready.promptDeliveries + 1 } });
    if (accepted) await transitionWorker(deps, accepted, "work_started", { repoId });
  }

  async #stopForMismatch(run: Run, v: WorkspaceViolation): Promise<void> {
    run.stopped = true;
    const message = `${v.source} outside the worktree: ${v.actual} (worktree ${v.expected})`;
    await this.#append(run, { type: "branch.workspace_mismatch", payload: { expected: v.expected, actual: v.actual, workerId: run.workerId, source: v.source } });
    const error: WorkerError = { failureClass: "workspace_mismatch", message, at: new Date().toISOString() };
    await applyWorkerEvent(this.deps, run.workerId, "kill", { repoId: run.repoId, data: { lastError: JSON.stringify(error) } });
    await this.deps.stopLane(run.laneId, "workspace_mismatch", message);
  }

  /** A worker process seen for the first time since the server started: rebuild its run. */
  async #rebuild(processId: string, upToOffset: number | null): Promise<Run | null> {
    if (this.#notWorkers.has(processId)) return null;
    const worker = await this.deps.db.worker.findUnique({ where: { processId }, include: { lane: true } });
    if (!worker) {
      this.#notWorkers.add(processId);
      if (this.#notWorkers.size > 10_000) this.#notWorkers.clear();
      return null;
    }
    const run = this.#newRun(processId, worker, worker.lane, createEngineAdapter(worker.engine));
    if (run.adapter) await this.#replay(run, upToOffset);
    this.#runs.set(processId, run);
    return run;
  }

  async #replay(run: Run, upToOffset: number | null): Promise<void> {
    let from = 0;
    try {
      for (;;) {
        if (upToOffset !== null && from >= upToOffset) return;
        const page = await this.deps.supervisor.readLog(run.processId, { stream: "stdout", from, ...(upToOffset !== null ? { to: upToOffset } : {}), limit: REPLAY_PAGE_LINES });
        for (const line of page.lines) for (const s of run.adapter!.feed(line.text)) this.#observe(run, s);
        if (page.eof || page.lines.length === 0 || page.to <= from) return;
        from = page.to;
      }
    } catch (err) {
      await this.#append(run, { type: "warning", payload: { failureClass: "tool_runtime", message: `could not re-read the output of ${run.engine} worker ${run.workerId}: ${(err as Error).message}` } });
    }
  }

  #newRun(processId: string, worker: WorkerRow, lane: { id: string; repoId: string; worktreePath: string }, adapter: EngineAdapter | null): Run {
    return {
      processId,
      workerId: worker.id,
      laneId: lane.id,
      repoId: lane.repoId,
      engine: worker.engine,
      adapter,
      binding: new WorkspaceBinding(lane.worktreePath, [laneDir(this.deps.dataDir, lane.id)]),
      throttle: new ActivityThrottle(this.#throttle),
      result: null,
      usage: parseUsage(worker.usage),
      // A worker that already ended (e.g. stopped for a workspace mismatch before a restart) gets no more events.
      stopped: TERMINAL_WORKER_STATES.has(worker.state as WorkerState),
    };
  }

  async #append(run: Run, event: { type: "worker.activity" | "worker.usage" | "warning" | "branch.workspace_mismatch"; payload: unknown }): Promise<void> {
    await this.deps.events.append({ ...event, laneId: run.laneId, repoId: run.repoId } as Parameters<WorkerDeps["events"]["append"]>[0]);
  }
}

function parseUsage(json: string | null): WorkerUsage | null {
  if (!json) return null;
  try {
    return JSON.parse(json) as WorkerUsage;
  } catch {
    return null;
  }
}
