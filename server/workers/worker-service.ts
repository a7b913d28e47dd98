/**
 * The session control API for claws (docs/workers.md, "Session control API"): create a lane's worker, await its ready
 * handshake, send a prompt or follow-up, fetch state and last error, resolve a trust prompt,
 * terminate. Route handlers under app/api/v1/lanes/[id]/worker/** call one method each; shapes
 * are lib/worker-api.ts.
 *
 * Prompts: a prompt is delivered only to a worker in `ready_for_prompt` with an interactive
 * session attached (./worker-session.ts), through the guarded `prompt_sent` transition, so of two
 * racing prompts exactly one is delivered and the other gets `conflict`. Headless engines
 * (claude, codex, anthropic) take their prompt at start; a prompt to such a lane after its run
 * ended is a **follow-up**: a new run of the lane that resumes the agent's session (Claude Code
 * `--resume`, `codex exec resume`), see ./follow-up.ts; the `anthropic`, `shell` and `script`
 * engines have no session to resume (`not_supported`).
 */
import { AppError } from "@/lib/errors";
import { TERMINAL_LANE_STATES, type LaneState, type WorkerState } from "@/lib/lane-state";
import type { AwaitReadyResponse, LastErrorResponse, PromptResponse, WorkerStateResponse } from "@/lib/worker-api";
import type { WorkerError, WorkerView } from "@/lib/worker-state";
import type { EventBus } from "../events/event-bus";
import { laneDir } from "../records/lane-dir";
import { loadLane, type LaneRow } from "../records/lane-store";
import { pollOnLaneEvents } from "../events/long-poll";
import type { LaneSummaryService } from "./lane-summary";
import { lastErrorOf } from "./last-error";
import { dropFollowUp, writeFollowUp } from "./follow-up";
import { promptPayload } from "./prompt-event";
import type { SessionHook, SessionSignal } from "./worker-session";
import { applyWorkerEvent, TERMINAL_WORKER_STATES, transitionWorker, type WorkerDeps, type WorkerEvent, type WorkerRow } from "./worker-state-machine";
import { currentWorker, hasAgentSession, toWorkerView } from "./worker-view";
import { needsAgentSession, promptVerdict, type PromptVerdict } from "./prompt-acceptance";
import type { NodeRouter } from "../rpc/node-router";

export interface WorkerServiceDeps extends WorkerDeps {
  /** Lane events in; the `lane.restart`, `lane.kill` and `lane.stop` requests out (answered by server/lanes). */
  bus: EventBus;
  scheduler: { kick(): Promise<void> };
  summaries: LaneSummaryService;
  dataDir: string;
  /** Runs prompts and trust answers on the node that runs the lane (its terminal is there). */
  router: Pick<NodeRouter, "at">;
}

export class WorkerService {
  readonly #sessions = new Map<string, SessionHook>();
  /** Workers whose session replays a misdelivered prompt itself. */
  readonly #selfReplay = new Set<string>();

  constructor(private readonly deps: WorkerServiceDeps) {
    // A session ends with its worker: forget it (and its replay mode) then.
    deps.bus.on("lane.event", (e) => {
      if (e.type !== "worker.state_changed" || !TERMINAL_WORKER_STATES.has(e.payload.to)) return;
      this.#sessions.delete(e.payload.workerId);
      this.#selfReplay.delete(e.payload.workerId);
    });
  }

  /** @throws AppError not_found */
  async state(laneId: string): Promise<WorkerStateResponse> {
    const lane = await loadLane(this.deps.db, laneId);
    return this.#response(lane, await currentWorker(this.deps.db, laneId));
  }

  /**
   * Start a worker for the lane: an ended lane is re-queued (a new attempt in the same worktree);
   * a queued lane is offered to the scheduler now (it still respects the worker cap).
   * @throws AppError not_found; conflict when the lane is live (starting, running, checking); unavailable (shutting down)
   */
  async create(laneId: string, opts: { by?: string } = {}): Promise<WorkerStateResponse> {
    const lane = await loadLane(this.deps.db, laneId);
    const state = lane.state as LaneState;
    if (TERMINAL_LANE_STATES.has(state)) await this.deps.bus.request("lane.restart", { laneId, by: opts.by ?? "api" });
    else if (state === "queued") await this.deps.scheduler.kick();
    else throw new AppError("conflict", `lane ${laneId} is ${state}: wait for it to end or terminate its worker first`);
    return this.state(laneId);
  }

  /**
   * Long poll: resolve once the current attempt's worker is past `spawning` (ready for a prompt,
   * gated by trust, blocked, working, or ended) or the lane has ended, or after `timeoutMs`.
   * @throws AppError not_found
   */
  async awaitReady(laneId: string, timeoutMs: number): Promise<AwaitReadyResponse> {
    const decide = async (timedOut: boolean): Promise<AwaitReadyResponse | null> => {
      const lane = await loadLane(this.deps.db, laneId);
      const worker = await currentWorker(this.deps.db, laneId);
      const current = worker !== null && worker.attempt === lane.attempt && lane.state !== "queued";
      const settled = TERMINAL_LANE_STATES.has(lane.state as LaneState) || (current && worker.state !== "spawning");
      if (!settled && !timedOut) return null;
      const response = await this.#response(lane, worker);
      // Exactly "a prompt sent now is accepted" (./prompt-acceptance.ts), not merely the worker's state.
      return { ...response, ready: response.worker?.acceptsPrompt ?? false, settled, timedOut: !settled };
    };
    return pollOnLaneEvents(this.deps.bus, laneId, timeoutMs, decide, (e) => e.type === "worker.state_changed" || e.type === "lane.state_changed");
  }

  /**
   * Send a prompt (live interactive worker in `ready_for_prompt`) or a follow-up (headless agent
   * lane whose run has ended).
   * @throws AppError not_found; not_ready (no worker, booting, working, gated, blocked); conflict
   *   (a prompt is being accepted, or another writer won the race); not_supported (the engine
   *   cannot take a follow-up); unavailable (shutting down)
   */
  async prompt(laneId: string, text: string): Promise<PromptResponse> {
    // The agent's terminal (and, for a follow-up, its session files) are on the lane's node.
    const owner = (await loadLane(this.deps.db, laneId)).nodeId;
    return this.deps.router.at(owner, "worker.prompt", laneId, { laneId, text }, () => this.#prompt(laneId, text));
  }

  async #prompt(laneId: string, text: string): Promise<PromptResponse> {
    const lane = await loadLane(this.deps.db, laneId);
    const worker = await currentWorker(this.deps.db, laneId);
    const verdict = await this.#verdict(lane, worker);
    if (verdict.mode === null) throw new AppError(verdict.code, verdict.message);
    if (verdict.mode === "follow_up") return this.#followUp(lane, text);
    const session = worker ? this.#sessions.get(worker.id) : undefined;
    if (!worker || !session) throw new AppError("conflict", `lane ${laneId}: the worker's session ended while the prompt was being sent`);
    await this.#deliver(worker, session, text, "api");
    return { ...(await this.state(laneId)), mode: "delivered" };
  }

  /**
   * A human or claw answers a gated folder-trust prompt.
   * @throws AppError not_found; conflict (not in trust_required); not_supported (no interactive session)
   */
  async resolveTrust(laneId: string, by: string): Promise<WorkerStateResponse> {
    const owner = (await loadLane(this.deps.db, laneId)).nodeId;
    return this.deps.router.at(owner, "worker.trust", laneId, { laneId, by }, () => this.#resolveTrust(laneId, by));
  }

  async #resolveTrust(laneId: string, by: string): Promise<WorkerStateResponse> {
    const worker = await currentWorker(this.deps.db, laneId);
    if (!worker || worker.state !== "trust_required") throw new AppError("conflict", `lane ${laneId} has no worker waiting at a trust prompt`);
    const session = this.#sessions.get(worker.id);
    if (!session) throw new AppError("not_supported", `worker ${worker.id} has no interactive session to answer`);
    await session.resolveTrust();
    await this.signal(worker.id, { kind: "trust_resolved", by });
    return this.state(laneId);
  }

  /** Stop the lane's worker (the lane becomes `killed`). @throws AppError not_found, not_running */
  async terminate(laneId: string, opts: { graceMs?: number; by?: string } = {}): Promise<WorkerStateResponse> {
    await this.deps.bus.request("lane.kill", { laneId, graceMs: opts.graceMs, by: opts.by ?? "api" });
    return this.state(laneId);
  }

  /** The lane's last error, with its attempt; null once a later attempt succeeded (./last-error.ts). @throws AppError not_found */
  lastError(laneId: string): Promise<LastErrorResponse> {
    return lastErrorOf(this.deps.db, laneId);
  }

  /** Whether an interactive session is attached to the worker. */
  hasSession(workerId: string): boolean {
    return this.#sessions.has(workerId);
  }

  /** Attach an interactive session to a worker (see ./worker-session.ts). @returns detach */
  attachSession(workerId: string, session: SessionHook): () => void {
    this.#sessions.set(workerId, session);
    return () => {
      if (this.#sessions.get(workerId) === session) this.#sessions.delete(workerId);
    };
  }

  /**
   * What an interactive session reports (table in ./worker-session.ts). A signal the worker's
   * state does not allow is ignored (null): screens repeat and arrive late.
   */
  async signal(workerId: string, signal: SessionSignal): Promise<WorkerView | null> {
    const before = await this.deps.db.worker.findUnique({ where: { id: workerId }, include: { lane: { select: { repoId: true } } } });
    if (!before) throw new AppError("not_found", `no worker with id ${workerId}`);
    const repoId = before.lane.repoId;
    const laneId = before.laneId;
    const apply = (event: WorkerEvent, data = {}) => applyWorkerEvent(this.deps, workerId, event, { repoId, data });
    const append = this.deps.events.append.bind(this.deps.events);
    let row: WorkerRow | null = null;
    switch (signal.kind) {
      case "trust_required":
        if ((row = await apply("trust_prompt"))) await append({ type: "trust_required", laneId, repoId, payload: { workerId, path: signal.path } });
        break;
      case "trust_resolved":
        if ((row = await apply("trust_resolved"))) await append({ type: "trust_resolved", laneId, repoId, payload: { workerId, by: signal.by } });
        break;
      case "blocked":
        if ((row = await apply("blocked"))) {
          await append({ type: "lane.blocked", laneId, repoId, payload: { reason: signal.text.slice(0, 2000), ...(signal.failureClass ? { failureClass: signal.failureClass } : {}) } });
        }
        break;
      case "working":
        row = (await apply("work_started")) ?? (await apply("resumed"));
        break;
      case "ready_for_prompt":
        row = await apply("ready", before.readyAt ? {} : { readyAt: new Date() });
        if (row && !before.readyAt) await append({ type: "lane.ready", laneId, repoId, payload: { workerId } });
        if (row) row = (await this.#autoDeliver(row, before.state as WorkerState)) ?? row;
        break;
      case "prompt_sent":
        row = await this.#sentBySession(before, signal.attempt);
        break;
      case "prompt_misdelivery":
        if (signal.replaying) this.#selfReplay.add(workerId);
        row = await this.#misdelivered(before, signal.evidence);
        break;
    }
    if (!row) return null;
    return toWorkerView(row, (await this.#verdict(await loadLane(this.deps.db, laneId), row)).mode);
  }

  /** At `ready_for_prompt` after booting: deliver the packet's prompt, or replay it once after a misdelivery. */
  async #autoDeliver(row: WorkerRow, from: WorkerState): Promise<WorkerRow | null> {
    const session = this.#sessions.get(row.id);
    // From `running` the agent finished a turn: the next prompt comes from the API.
    if (!session || !row.prompt || from === "running" || row.promptDeliveries > 1 || this.#selfReplay.has(row.id)) return null;
    if (row.promptDeliveries === 1) {
      const lane = await this.deps.db.lane.findUniqueOrThrow({ where: { id: row.laneId } });
      await this.deps.events.append({ type: "lane.recovery.attempted", laneId: row.laneId, repoId: lane.repoId, payload: { recipe: "replay-prompt", failureClass: "prompt_delivery" } });
    }
    return this.#deliver(row, session, row.prompt, row.promptDeliveries === 0 ? "packet" : "replay").catch(() => null);
  }

  /** The session typed the prompt itself (its own replay): record the delivery. */
  async #sentBySession(worker: WorkerRow & { lane: { repoId: string } }, attempt: number): Promise<WorkerRow | null> {
    const repoId = worker.lane.repoId;
    if (worker.state === "spawning" && !(await applyWorkerEvent(this.deps, worker.id, "ready", { repoId }))) return null;
    const row = await applyWorkerEvent(this.deps, worker.id, "prompt_sent", { repoId, data: { promptDeliveries: Math.max(attempt, worker.promptDeliveries + 1) } });
    if (row && attempt >= 2) {
      await this.deps.events.append({ type: "lane.recovery.attempted", laneId: worker.laneId, repoId, payload: { recipe: "replay-prompt", failureClass: "prompt_delivery" } });
    }
    return row;
  }

  async #misdelivered(worker: WorkerRow & { lane: { repoId: string } }, evidence: string): Promise<WorkerRow | null> {
    const { laneId } = worker;
    await this.deps.events.append({ type: "lane.prompt_misdelivery", laneId, repoId: worker.lane.repoId, payload: { workerId: worker.id, evidence: evidence.slice(0, 2000) } });
    if (worker.promptDeliveries < 2) return applyWorkerEvent(this.deps, worker.id, "misdelivery", { repoId: worker.lane.repoId });
    const error: WorkerError = { failureClass: "prompt_delivery", message: `prompt misdelivered again after one replay: ${evidence.slice(0, 500)}`, at: new Date().toISOString() };
    const row = await applyWorkerEvent(this.deps, worker.id, "fail", { repoId: worker.lane.repoId, data: { lastError: JSON.stringify(error) } });
    await this.deps.bus.request("lane.stop", { laneId, failureClass: "prompt_delivery", reason: error.message });
    return row;
  }

  /**
   * `ready_for_prompt → prompt_accepted` (guarded), then type the prompt. A delivery that throws
   * counts as a misdelivery (one replay at the next ready).
   * @throws AppError conflict when another writer moved the worker first
   */
  async #deliver(worker: WorkerRow, session: SessionHook, text: string, source: "api" | "packet" | "replay"): Promise<WorkerRow> {
    const lane = await this.deps.db.lane.findUniqueOrThrow({ where: { id: worker.laneId } });
    const deliveries = source === "replay" ? worker.promptDeliveries + 1 : 1;
    const accepted = await transitionWorker(this.deps, worker, "prompt_sent", { repoId: lane.repoId, data: { prompt: text, promptDeliveries: deliveries } });
    if (!accepted) throw new AppError("conflict", `worker ${worker.id} changed while the prompt was being sent (another prompt won)`);
    try {
      await session.deliverPrompt(text);
    } catch (err) {
      await this.signal(worker.id, { kind: "prompt_misdelivery", evidence: `delivery failed: ${(err as Error).message}` });
      throw new AppError("unavailable", `the prompt could not be typed into the session: ${(err as Error).message}`);
    }
    await this.deps.events.append({ type: "worker.prompted", laneId: worker.laneId, repoId: lane.repoId, payload: promptPayload(worker.id, text, source) });
    return accepted;
  }

  /** The prompt verdict for the lane's current worker (./prompt-acceptance.ts). */
  async #verdict(lane: LaneRow, worker: WorkerRow | null): Promise<PromptVerdict> {
    const agentSession = needsAgentSession(lane) ? await hasAgentSession(this.deps.db, lane.id) : false;
    return promptVerdict({ lane, worker, session: worker ? this.#sessions.has(worker.id) : false, agentSession });
  }

  /** A follow-up run of an ended lane (its verdict was `follow_up`). */
  async #followUp(lane: LaneRow, text: string): Promise<PromptResponse> {
    const withSession = await this.deps.db.worker.findFirst({ where: { laneId: lane.id, sessionId: { not: null } }, orderBy: [{ attempt: "desc" }, { createdAt: "desc" }] });
    if (!withSession?.sessionId) throw new AppError("conflict", `lane ${lane.id} has no agent session to continue (its worker never reported ready)`);
    const dir = laneDir(this.deps.dataDir, lane.id);
    await writeFollowUp(dir, { prompt: text, sessionId: withSession.sessionId, forAttempt: lane.attempt + 1 });
    try {
      await this.deps.bus.request("lane.restart", { laneId: lane.id, by: "follow_up" });
    } catch (err) {
      await dropFollowUp(dir);
      throw err;
    }
    return { ...(await this.state(lane.id)), mode: "follow_up" };
  }

  async #response(lane: LaneRow, worker: WorkerRow | null): Promise<WorkerStateResponse> {
    const view = worker ? toWorkerView(worker, (await this.#verdict(lane, worker)).mode) : null;
    return { laneId: lane.id, laneState: lane.state as LaneState, worker: view, summary: await this.deps.summaries.get(lane.id) };
  }
}
