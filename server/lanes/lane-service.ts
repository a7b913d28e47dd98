/**
 * The lane service: the verbs the API and the demo use on lanes — create from a task packet,
 * kill, restart, change a lane's budget or schedule, and the read models (views, logs, board).
 * Running a lane's processes is the {@link LaneRunner}'s job; choosing when is the scheduler's.
 *
 * Fan-out/fan-in through the API: a parent lane (or a claw acting for it) creates child lanes with
 * `parentId` (their usage rolls up to the parent's budget), then a join lane with
 * `dependsOn: [child ids]` and `mode: wait_all | wait_any` (optionally `artifact`). The join
 * waits, held with `waitingFor: dependency`, and is blocked (`lane.blocked`) if its dependencies
 * can no longer satisfy it. No batch endpoint: children exist before the join names them.
 */
import path from "node:path";
import type { BoardResponse, LaneLogsResponse, LaneView, LogLine } from "@/lib/api";
import { AppError, isAppError } from "@/lib/errors";
import { LIVE_LANE_STATES, TERMINAL_LANE_STATES, type LaneState } from "@/lib/lane-state";
import { TaskPacketSchema, type TaskPacketInput } from "@/lib/task-packet";
import type { Page } from "@/lib/paging";
import { parseOrThrow } from "@/lib/validate";
import { createBranch, git } from "../git/git";
import { remainingGraceMs, type ProcessSupervisor } from "../processes/supervisor";
import type { RepoService } from "../repos/repo-service";
import { schedulingOf, validateNewLane } from "../scheduler/lane-scheduling";
import type { SchedulerApi } from "../scheduler/scheduler-api";
import type { NodeRouter } from "../rpc/node-router";
import type { ProcessAccess } from "../processes/process-access";
import type { LaneRunner } from "./lane-runner";
import { exportLaneLog } from "./lane-log-export";
import { loadLane, transitionLane, type LaneDeps, type LaneRow } from "../records/lane-store";
import type { LaneViews } from "./lane-views";
import type { WorktreeCheckouts } from "./worktree-checkouts";
import { appendKilledWhenRecorded, isDiskFull } from "./kill-on-full-disk";

export interface LaneServiceDeps extends LaneDeps {
  repos: RepoService;
  runner: LaneRunner;
  supervisor: ProcessSupervisor;
  scheduler: SchedulerApi;
  /** Runs node-owned verbs (kill, logs) on the node that runs the lane (server/cluster/node-router.ts). */
  router: NodeRouter;
  /** Process log pages from whichever node ran the process. */
  processes: ProcessAccess;
  dataDir: string;
  killGraceMs: number;
  /** A lane was created (stored, queued): freshness computes it with its repository's next scan. */
  onLaneCreated: (laneId: string, repoId: string) => void;
  /** The read model that builds the views this service answers with. */
  views: LaneViews;
  /** Where new lanes' worktrees are checked out after the answer (shared with their readers). */
  checkouts: WorktreeCheckouts;
}

/**
 * Lane creations of one repository in this process, one at a time: branch, then row. This keeps a
 * repository's lanes stored in the order their branches were made.
 */
const repoLocks = new Map<string, Promise<unknown>>();
function withRepoLock<T>(repoId: string, fn: () => Promise<T>): Promise<T> {
  const prev = repoLocks.get(repoId) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  repoLocks.set(repoId, next.catch(() => undefined));
  return next;
}

export class LaneService {
  #accepting = true;
  /** The last unnarrowed board body and what it was made of. */
  #board: { lanes: Buffer; repos: string; cursor: number; body: Buffer } | null = null;

  constructor(private readonly deps: LaneServiceDeps) {}

  /** Stop accepting new lanes and restarts (shutdown). */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /**
   * Create a lane: validate the packet and its scheduling fields, create its branch from the base,
   * store it `queued` and hand it to the scheduler. Its worktree is checked out after the answer,
   * before anything reads it ({@link WorktreeCheckouts}). A lane whose own
   * budget is already spent (e.g. `maxTokens: 0`) is accepted and stays queued with
   * `waitingFor: budget` until its budget is raised (`PUT /api/v1/lanes/:id/budget`).
   * @throws AppError invalid_input (packet; scheduling: `priority`, `deadline` in the past,
   *   `dependsOn.<i>` unknown or of another repo, `budget.*`, `parentId`), not_found (repo or base
   *   branch), branch_exists, unavailable (shutting down). Nothing is created then.
   */
  async create(input: TaskPacketInput | unknown): Promise<LaneView> {
    if (!this.#accepting) throw new AppError("unavailable", "the server is shutting down");
    const packet = parseOrThrow(TaskPacketSchema, input);
    const repo = await this.deps.repos.resolve(packet.repo);
    await this.#assertRoom();
    const queuedAt = this.deps.scheduler.now();
    const sched = await validateNewLane(this.deps.db, repo.id, schedulingOf(packet), queuedAt);
    const baseBranch = packet.baseBranch ?? repo.mainBranch;
    const lane = await withRepoLock(repo.id, async () => {
      const id = crypto.randomUUID();
      const worktreePath = path.join(this.deps.dataDir, "worktrees", `${repo.name}-${id.slice(0, 8)}`);
      // createBranch checks the branch name, that the branch is new and that the base exists
      // (one git process): its errors are said here in the packet's terms.
      const { baseSha } = await createBranch(repo.path, packet.branch, baseBranch).catch((err: unknown) => {
        if (isAppError(err) && err.code === "not_found") throw new AppError("not_found", `base branch '${baseBranch}' does not exist in ${repo.name}`, { field: "baseBranch" });
        if (isAppError(err) && err.code === "branch_exists") throw new AppError("branch_exists", `branch '${packet.branch}' already exists in ${repo.name}`, { field: "branch" });
        throw err;
      });
      try {
        return await this.deps.db.lane.create({
          data: {
            id,
            repoId: repo.id,
            slug: packet.branch.replace(/^lane\//, "").replace(/[^A-Za-z0-9-]+/g, "-"),
            objective: packet.objective,
            branch: packet.branch,
            baseBranch,
            baseSha,
            worktreePath,
            engine: packet.worker.engine,
            packet: JSON.stringify({ ...packet, repo: repo.id, baseBranch }),
            state: "queued",
            queuedAt: new Date(queuedAt),
            pool: sched.pool,
            priority: sched.priority,
            deadline: sched.deadline === null ? null : new Date(sched.deadline),
            dependsOn: JSON.stringify(sched.dependsOn),
            dependsMode: sched.mode,
            artifact: sched.artifact ? JSON.stringify(sched.artifact) : null,
            budget: sched.budget ? JSON.stringify(sched.budget) : null,
            parentId: sched.parentId ?? null,
          },
        });
      } catch (err) {
        await git(["branch", "-D", "--", packet.branch], { cwd: repo.path, allowFailure: true }).catch(() => undefined);
        throw err;
      }
    });
    // The answer does not wait for the checkout (three git processes); the lane's start, its
    // freshness and its cleanup do (WorktreeCheckouts).
    this.deps.checkouts.begin({ laneId: lane.id, repoId: repo.id, worktreePath: lane.worktreePath, branch: lane.branch }, repo.path);
    const { events } = this.deps;
    await events.append({
      type: "lane.created",
      laneId: lane.id,
      repoId: repo.id,
      payload: { objective: lane.objective, branch: lane.branch, baseBranch, engine: lane.engine, worktreePath: lane.worktreePath },
    });
    try {
      await this.deps.scheduler.submit(lane, sched, queuedAt);
    } catch (err) {
      // Validated above, so a programming error: do not leave a queued lane nobody will start.
      await transitionLane(this.deps, lane, "killed", { endedAt: new Date() }, [
        { type: "lane.killed", laneId: lane.id, repoId: repo.id, payload: { by: "scheduler", signal: null, graceMs: 0 } },
      ]);
      throw err;
    }
    this.deps.onLaneCreated(lane.id, repo.id);
    // Answer with the queued lane now; whether and when it starts is the scheduler's decision,
    // said by its events (lane.queued, lane.state_changed). Waiting for the dispatch pass made the
    // answer as slow as starting a worker.
    void this.deps.scheduler.kick();
    return this.get(lane.id);
  }

  /**
   * Kill a lane: a queued lane is just marked killed; a live lane's current process group gets
   * SIGTERM, then SIGKILL after `graceMs`. Resolves when no process of the group is left. On a
   * full data disk a live lane is killed all the same (it may be the one that filled it): what
   * the database refuses is recorded once there is room (kill-on-full-disk.ts), and the answer
   * already says `killed`.
   * @throws AppError not_found, not_running (the lane has already ended), disk_full (a queued
   *   lane, whose kill is only a write, on a full disk).
   */
  async kill(laneId: string, opts: { graceMs?: number; by?: string } = {}): Promise<LaneView> {
    // A live lane's process group is on the node that runs it; a queued one is only a row.
    const lane = await loadLane(this.deps.db, laneId);
    const owner = LIVE_LANE_STATES.has(lane.state as LaneState) ? lane.nodeId : null;
    return this.deps.router.at(owner, "lane.kill", laneId, { laneId, ...opts }, () => this.#kill(laneId, opts));
  }

  async #kill(laneId: string, opts: { graceMs?: number; by?: string }): Promise<LaneView> {
    const graceMs = opts.graceMs ?? this.deps.killGraceMs;
    const by = opts.by ?? "api";
    // The process, not the start's records: those wait for room on a full disk, the kill must not.
    await this.deps.runner.whenSpawned(laneId);
    const lane = await loadLane(this.deps.db, laneId);
    const state = lane.state as LaneState;
    if (TERMINAL_LANE_STATES.has(state)) throw new AppError("not_running", `lane ${laneId} is not running (it is ${state})`);
    const proc = await this.#currentProcess(laneId);
    const live = proc !== null && LIVE_LANE_STATES.has(state);
    // Mark the lane killed first, so the process's exit is not read as a failure.
    let deferred = false; // `lane.killed` waits for room (and, when the lane's own write was refused, for its settlement)
    const killed = await transitionLane(this.deps, lane, "killed", { endedAt: new Date() }).catch((err: unknown) => {
      if (!live || !isDiskFull(err)) throw err;
      return (deferred = true);
    });
    if (!killed) return this.#kill(laneId, opts); // lost a race with a state change: decide again
    let signal: string | null = null;
    if (live) {
      const exit = await this.deps.supervisor.kill(proc.id, { graceMs }).catch((err) => {
        if (isAppError(err) && err.code === "not_running") return null;
        throw err;
      });
      signal = exit?.signal ?? null;
      // Answer with the worker's end recorded too, not only the lane's.
      await this.deps.runner.whenExitHandled(proc.id);
    }
    const killedEvent = { type: "lane.killed", laneId, repoId: lane.repoId, payload: { by, signal, graceMs } } as const;
    // Writes kept for room (this lane's start records, its state change, its exit) land first.
    if (live && this.deps.supervisor.writes.waiting > 0) deferred = true;
    if (!deferred) {
      await this.deps.events.append(killedEvent).catch((err: unknown) => {
        if (!live || !isDiskFull(err)) throw err;
        deferred = true;
      });
    }
    void this.deps.scheduler.kick();
    if (!deferred) return this.get(laneId);
    appendKilledWhenRecorded(this.deps, proc!.id, killedEvent);
    return { ...(await this.get(laneId)), state: "killed" };
  }

  /**
   * At start, after the supervisor reattached what still runs: finish the kills a stopped server
   * left in their grace period. A lane is marked killed before its process gets SIGTERM, so a
   * killed lane whose process still runs got SIGTERM but not the SIGKILL due at the end of the
   * grace period (a command that traps SIGTERM would run on forever). The kill is resumed with what
   * is left of the grace period (counted from the lane's end time, when the kill began; the
   * server's `killGraceMs`, as the request's own grace is not kept), and `lane.killed` is recorded
   * once the process is gone. Never throws (problems are logged).
   * @returns ids of the lanes whose kill was resumed
   */
  async resumeKills(): Promise<string[]> {
    const lanes = await this.deps.db.lane.findMany({
      where: { state: "killed", processes: { some: { status: { in: ["starting", "running"] } } } },
      select: { id: true, repoId: true, endedAt: true },
    });
    for (const lane of lanes) {
      const proc = await this.#currentProcess(lane.id);
      if (!proc) continue;
      const graceMs = remainingGraceMs(lane.endedAt ?? new Date(), this.deps.killGraceMs);
      void (async () => {
        const exit = await this.deps.supervisor.kill(proc.id, { graceMs });
        await this.deps.runner.whenExitHandled(proc.id);
        await this.deps.events.append({ type: "lane.killed", laneId: lane.id, repoId: lane.repoId, payload: { by: "resumed after a restart", signal: exit.signal, graceMs } });
      })().catch((err: unknown) => console.warn(`[lanes] resuming the kill of lane ${lane.id} failed:`, err instanceof Error ? err.message : err));
    }
    return lanes.map((l) => l.id);
  }

  /**
   * New work needs room: with the data disk full, a worktree would be half-made and its lane never
   * recorded. @throws AppError disk_full (503)
   */
  async #assertRoom(): Promise<void> {
    if (await this.deps.supervisor.diskFull()) throw new AppError("disk_full", `the disk holding ${this.deps.dataDir} is full; new lanes are refused until space is freed`);
  }

  /**
   * Restart a lane that has ended: re-queue it in the same worktree; its history is kept.
   * @throws AppError not_found, conflict (still live: kill it first), unavailable.
   */
  async restart(laneId: string, opts: { by?: string } = {}): Promise<LaneView> {
    if (!this.#accepting) throw new AppError("unavailable", "the server is shutting down");
    const lane = await loadLane(this.deps.db, laneId);
    await this.#assertRoom();
    if (!TERMINAL_LANE_STATES.has(lane.state as LaneState)) {
      throw new AppError("conflict", `lane ${laneId} is ${lane.state}; kill it before restarting`);
    }
    const queued = await this.deps.scheduler.requeue(lane, async (data) => {
      const row = await transitionLane(this.deps, lane, "queued", data);
      if (row) await this.deps.events.append({ type: "lane.restarted", laneId, repoId: lane.repoId, payload: { attempt: lane.attempt + 1, by: opts.by ?? "api" } });
      return row;
    });
    if (!queued) throw new AppError("conflict", `lane ${laneId} changed while restarting; try again`);
    await this.deps.scheduler.kick();
    return this.get(laneId);
  }

  /**
   * Replace a lane's token/cost budget (`{ budget: {maxTokens?, maxCostUsd?} | null }`).
   * @throws AppError invalid_input naming `budget.<field>`, not_found.
   */
  async setBudget(laneId: string, body: unknown): Promise<LaneView> {
    await loadLane(this.deps.db, laneId);
    await this.deps.scheduler.settings.setLaneBudget(laneId, body);
    return this.get(laneId);
  }

  /**
   * Change a queued lane's priority, deadline or dependencies (lib/scheduling.ts ScheduleUpdateSchema).
   * @throws AppError invalid_input naming the field (a cycle is named), conflict (not queued), not_found.
   */
  async reschedule(laneId: string, body: unknown): Promise<LaneView> {
    await this.deps.scheduler.settings.reschedule(laneId, body);
    return this.get(laneId);
  }

  /** @throws AppError not_found */
  get(laneId: string): Promise<LaneView> {
    return this.deps.views.get(laneId);
  }

  /**
   * One page of lanes in creation order (`GET /api/v1/lanes`; cursor pagination, lib/paging.ts).
   * @throws AppError invalid_input (field `cursor`) for a cursor this API did not give
   */
  page(opts: { repoId?: string; ids?: readonly string[]; limit: number; cursor?: string }): Promise<Page<LaneView>> {
    return this.deps.views.page(opts);
  }

  list(opts: { repoId?: string } = {}): Promise<LaneView[]> {
    return this.deps.views.list(opts);
  }

  async board(): Promise<BoardResponse> {
    const cursor = await this.deps.events.latestId();
    const [repos, lanes] = await Promise.all([this.deps.repos.list(), this.list()]);
    return { repos, lanes, cursor };
  }

  /**
   * {@link board} as the UTF-8 JSON `GET /api/v1/board` sends: the same document, assembled from
   * the read model's cached per-lane bytes instead of serializing thousands of views per request.
   * While nothing in it changed (no lane, repo or event cursor), the answer is the same Buffer
   * object, so a caller may key what it derives from it (an ETag, a compressed copy) by identity.
   * `repoIds` (a token limited to repos): only those repos and their lanes; null or absent: all.
   */
  async boardBody(opts: { repoIds?: ReadonlySet<string> | null } = {}): Promise<Buffer> {
    const only = opts.repoIds ?? null;
    const cursor = await this.deps.events.latestId();
    const [allRepos, lanes] = await Promise.all([this.deps.repos.list(), this.deps.views.listBody({ repoIds: only })]);
    const repos = JSON.stringify(only ? allRepos.filter((r) => only.has(r.id)) : allRepos);
    const last = this.#board;
    if (!only && last && last.lanes === lanes && last.repos === repos && last.cursor === cursor) return last.body;
    const body = Buffer.concat([Buffer.from(`{"repos":${repos},"lanes":`), lanes, Buffer.from(`,"cursor":${JSON.stringify(cursor)}}`)]);
    if (!only) this.#board = { lanes, repos, cursor, body };
    return body;
  }

  /**
   * Output of the lane's current attempt (worker and checks), oldest first, at most `limit`
   * lines; after the processes have ended it is read back from their log files.
   */
  async logs(laneId: string, opts: { limit: number; processId?: string }): Promise<LaneLogsResponse> {
    // The log files are on the node that ran the lane's processes.
    const owner = opts.processId ? await this.deps.router.processNode(opts.processId) : await this.deps.router.laneNode(laneId);
    return this.deps.router.at(owner, "lane.logs", laneId, { laneId, ...opts }, () => this.#logs(laneId, opts));
  }

  async #logs(laneId: string, opts: { limit: number; processId?: string }): Promise<LaneLogsResponse> {
    const lane = await loadLane(this.deps.db, laneId);
    const procs = await this.#attemptProcesses(lane, opts.processId);
    const lines: LogLine[] = [];
    // One line more than asked per process: if it comes back, older output exists beyond the limit.
    for (const p of procs) lines.push(...(await this.deps.supervisor.tail(p.id, opts.limit + 1)));
    const truncated = procs.some((p) => p.truncatedBytes > 0) || lines.length > opts.limit;
    return { laneId, processId: procs.at(-1)?.id ?? null, lines: lines.slice(-opts.limit), truncated };
  }

  /** The lane's whole log as text chunks, for download (lane-log-export.ts). @throws AppError not_found on the first chunk */
  exportLog(laneId: string): AsyncGenerator<string> {
    // Pages are read on the node that ran each process.
    return exportLaneLog({ db: this.deps.db, supervisor: this.deps.processes }, laneId);
  }

  async #attemptProcesses(lane: LaneRow, processId?: string) {
    const where = processId
      ? { laneId: lane.id, id: processId }
      : { laneId: lane.id, ...(lane.startedAt ? { createdAt: { gte: lane.startedAt } } : {}) };
    const procs = await this.deps.db.process.findMany({ where, orderBy: { createdAt: "asc" } });
    if (processId && procs.length === 0) throw new AppError("not_found", `lane ${lane.id} has no process ${processId}`);
    return procs;
  }

  async #currentProcess(laneId: string) {
    return this.deps.db.process.findFirst({ where: { laneId, status: { in: ["starting", "running"] } }, orderBy: { createdAt: "desc" } });
  }}
