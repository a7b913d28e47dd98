/**
 * The composition root: builds every runtime service once, wires their events, and shuts them
 * down once. Nothing else constructs these services (house style §1).
 *
 * Boot order: database (migrations applied) → bus and event log → supervisor → services (the
 * scheduler rebuilds its queue from the Lane rows) → subscriptions → supervisor.recover() (reattach / reap / mark lost; exits are delivered to the
 * lane runner through the bus) → scheduler dispatch and freshness timer.
 *
 * Shutdown ({@link Runtime.quit}, idempotent): stop accepting work (lanes, scheduler), stop the
 * freshness timer, stop the supervisor's readers (killing process groups only with
 * `killOnExit`), flush the event log, close the database.
 */
import { agentEngineSettings, type Config } from "./config";
import { EventBus } from "./events/event-bus";
import { EventLog } from "./events/event-log";
import { FreshnessTracker } from "./freshness/freshness";
import { LaneRunner } from "./lanes/lane-runner";
import { LaneService } from "./lanes/lane-service";
import { ProcessSupervisor } from "./processes/supervisor";
import { ProcessLogStreams } from "./processes/log-follower";
import { IdempotencyService } from "./idempotency/idempotency-service";
import { RepoService } from "./repos/repo-service";
import { withCheckSlots } from "./checks/check-slots";
import { Scheduler } from "./scheduler/scheduler";
import { closeDatabase, openDatabase, type Db } from "./store/db";
import { BranchSync } from "./freshness/branch-sync";
import { LaneDiffService } from "./merge/lane-diff";
import { MergeService } from "./merge/merge-service";
import { LaneAttemptsService } from "./lanes/lane-attempts";
import { PolicyService } from "./policy/policy-service";
import { CheckGuard } from "./checks/check-guard";
import { classifyWorkerExit } from "./checks/classify-worker";
import { laneFlags } from "./lanes/lane-flags";
import { RecoveryService } from "./recovery/recovery-service";
import { LaneSummaryService } from "./workers/lane-summary";
import { WorkerService } from "./workers/worker-service";
import { InteractiveDriver } from "./workers/interactive-driver";
import { WebhookService } from "./webhooks/webhook-service";

export interface Runtime {
  config: Config;
  db: Db;
  bus: EventBus;
  events: EventLog;
  supervisor: ProcessSupervisor;
  repos: RepoService;
  lanes: LaneService;
  scheduler: Scheduler;
  freshness: FreshnessTracker;
  /** Issue 5: per-repo policy rules, merge readiness and the merge action, recovery recipes. */
  policy: PolicyService;
  merge: MergeService;
  /** A lane's diff against its base, for review (list of files, then one file's patch). */
  diff: LaneDiffService;
  /** Every attempt of a lane with its processes, checks, usage and event range. */
  attempts: LaneAttemptsService;
  recovery: RecoveryService;
  /** Worker session control (create, await ready, prompt, state, last error, terminate) and the interactive-session hook. */
  workers: WorkerService;
  summaries: LaneSummaryService;
  /** Idempotency-Key handling for creating calls. */
  idempotency: IdempotencyService;
  /** Following a process's output from a byte offset (server-sent events). */
  logStreams: ProcessLogStreams;
  /** Per-repo webhooks: lane events POSTed to a URL, retried with backoff, deliveries kept. */
  webhooks: WebhookService;
  /** Interactive agents in tmux (`worker.mode: "interactive"`), wired to `workers`. */
  interactive: InteractiveDriver;
  /** Shut down once; later calls return the same promise. */
  quit(): Promise<void>;
}

export async function createRuntime(config: Config): Promise<Runtime> {
  const db = await openDatabase(config.dataDir);
  const bus = new EventBus();
  const events = new EventLog(db, bus);
  const supervisor = new ProcessSupervisor({
    db,
    events,
    bus,
    dataDir: config.dataDir,
    killGraceMs: config.killGraceMs,
    logMaxBytesPerProcess: config.logMaxBytesPerProcess,
    logMaxBytesTotal: config.logMaxBytesTotal,
    cgroups: config.processCgroups,
  });
  const freshness = new FreshnessTracker({ db, events });
  const policy = new PolicyService({ db, events, dataDir: config.dataDir });
  const sync = new BranchSync({ db, events, freshness });
  // Assigned below; the closures that use it run only once the runtime is built.
  // eslint-disable-next-line prefer-const
  let lanes!: LaneService;
  const recovery = new RecoveryService({ db, events, policy, freshness, sync, supervisor, restartLane: (id, by) => lanes.restart(id, { by }) });
  const merge = new MergeService({ db, events, freshness, policy, recovery });
  // The scheduler and the runner refer to each other through callbacks; it is opened (async,
  // from the Lane rows) once the runner exists, and the callbacks run only after that.
  // eslint-disable-next-line prefer-const
  let scheduler!: Scheduler;
  const engineSettings = agentEngineSettings(config);
  // Built below (it needs the lane runner's callbacks); the driver resolves it lazily.
  const workersRef: { current?: WorkerService } = {};
  const interactive = new InteractiveDriver({
    db,
    dataDir: config.dataDir,
    tmuxBin: config.tmuxBin,
    trustedRepos: config.trustedRepos,
    settings: { anthropicBaseUrl: engineSettings.anthropicBaseUrl, anthropicApiKey: engineSettings.anthropicApiKey, claudeBin: engineSettings.claudeBin, claudeModel: engineSettings.claudeModel },
    workers: () => workersRef.current!,
  });
  const runner = new LaneRunner({
    db,
    events,
    supervisor,
    dataDir: config.dataDir,
    engineSettings,
    interactive,
    onSlotFreed: () => void scheduler.kick(),
    onLaneActivity: (laneId) => void freshness.refresh(laneId),
    // Each check run waits for a slot in the scheduler's check pool (caps global and per repo).
    checkHooks: withCheckSlots(new CheckGuard({ events, freshness, policy, sync, recovery, merge }), { bus, acquire: (o) => scheduler.acquire("check", o) }),
    classifyWorkerFailure: (lane, exit) => classifyWorkerExit(supervisor, lane, exit),
  });
  // Rebuilt from the Lane rows before the supervisor reattaches, so exits found at boot settle into it.
  scheduler = await Scheduler.open({
    db,
    events,
    bus,
    startLane: (id) => runner.start(id),
    stopLane: (id, reason) => runner.stopLane(id, "budget_exceeded", reason),
    workerCap: config.workerCap,
  });
  const repos = new RepoService(db, events);
  const summaries = new LaneSummaryService({ db, bus });
  const workers = new WorkerService({
    db,
    events,
    bus,
    lanes: { kill: (id, opts) => lanes.kill(id, opts), restart: (id, opts) => lanes.restart(id, opts) },
    scheduler,
    summaries,
    laneDir: (id) => runner.laneDir(id),
    stopLane: (id, failureClass, reason) => runner.stopLane(id, failureClass, reason),
  });
  workersRef.current = workers;
  lanes = new LaneService({
    db,
    events,
    repos,
    runner,
    supervisor,
    scheduler,
    dataDir: config.dataDir,
    killGraceMs: config.killGraceMs,
    onLaneCreated: (laneId) => void freshness.refresh(laneId),
    decorate: async (ids) => {
      const [own, flags] = await Promise.all([workers.decorations(ids), laneFlags(db, freshness, ids)]);
      return new Map(ids.map((id) => [id, { ...flags.get(id), ...own.get(id) }]));
    },
  });

  bus.on("process.output", runner.handleProcessOutput);
  bus.on("process.exit", runner.handleProcessExit);
  bus.on("lane.event", recovery.handleEvent);
  bus.on("lane.event", (e) => void (e.type === "repo.registered" && e.repoId && policy.loadRepo(e.repoId)));
  await policy.start();
  const webhooks = new WebhookService({ db, bus });
  await webhooks.start();
  await supervisor.recover();
  // After recover(): the hosts of live interactive lanes are adopted; watch their sessions again.
  await interactive.reattachAll((id) => runner.laneDir(id)).catch((err) => console.warn("[interactive] reattach failed", err));
  await scheduler.kick();
  await freshness.start();
  for (const lane of await db.lane.findMany({ select: { id: true } })) void freshness.refresh(lane.id);

  let quitting: Promise<void> | null = null;
  const quit = async () => {
    lanes.stopAccepting();
    policy.stop();
    await Promise.allSettled([recovery.stop(), merge.stop(), webhooks.stop()]);
    await Promise.allSettled([freshness.stop(), scheduler.stop()]);
    // Detach first so the agents outlive the server; with killOnExit the hosts' traps end the sessions.
    await interactive.shutdown({ kill: false });
    await Promise.allSettled([supervisor.shutdown({ kill: config.killOnExit })]);
    if (config.killOnExit) await interactive.shutdown({ kill: true });
    await events.flush();
    summaries.close();
    await closeDatabase(db);
  };
  return {
    config,
    db,
    bus,
    events,
    supervisor,
    repos,
    lanes,
    scheduler,
    freshness,
    policy,
    merge,
    diff: new LaneDiffService({ db }),
    attempts: new LaneAttemptsService({ db, events }),
    recovery,
    workers,
    summaries,
    webhooks,
    interactive,
    logStreams: new ProcessLogStreams({ supervisor, bus }),
    idempotency: new IdempotencyService({ db }),
    quit: () => (quitting ??= quit()),
  };
}
