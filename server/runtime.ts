/**
 * The composition root: builds every runtime service once, wires their events, and shuts them
 * down once. Nothing else constructs these services (house style §1).
 *
 * Services are built in dependency order: each receives only services built before it, so
 * nothing is assigned late. Where two services call each other, the one built first asks through
 * a request on the bus (server/events/event-bus.ts `BusRequests`), answered once the other
 * exists: the scheduler asks the lane runner to start or stop a lane; recovery and the worker
 * service ask the lane service to restart or kill one.
 *
 * Boot order: database (migrations applied) → bus and event log → supervisor → freshness,
 * policy, repos, summaries → scheduler (rebuilds its queue from the Lane rows) → recovery, merge
 * → workers, interactive driver → lane runner (with the checks) → lane views → lane service →
 * request handlers and subscriptions → supervisor.recover() (reattach / reap / mark lost; exits
 * are delivered to the lane runner through the bus) → scheduler dispatch and freshness timer.
 *
 * Shutdown ({@link Runtime.quit}, idempotent): stop accepting work (lanes, scheduler), stop the
 * freshness timer, stop the supervisor's readers (killing process groups only with
 * `killOnExit`), flush the event log, close the database.
 */
import { agentEngineSettings, type Config } from "./config";
import { registerSecrets } from "@/lib/redact";
import { loadOrCreateAdminToken } from "./auth/admin-token";
import { withheldEnvValues } from "./processes/child-env";
import { AuthService } from "./auth/auth-service";
import { TokenService } from "./auth/token-service";
import { EventBus } from "./events/event-bus";
import { EventLog } from "./events/event-log";
import { FreshnessTracker } from "./freshness/freshness";
import { LaneRunner } from "./lanes/lane-runner";
import type { WorkerMonitor } from "./workers/worker-monitor";
import { LaneService } from "./lanes/lane-service";
import { LaneViews } from "./lanes/lane-views";
import { WorktreeCheckouts } from "./lanes/worktree-checkouts";
import { StallDetector } from "./lanes/stall-detector";
import { LaneAwaiter } from "./lanes/await-lane";
import { ProcessSupervisor } from "./processes/supervisor";
import { ProcessLogStreams } from "./processes/log-follower";
import { IdempotencyService } from "./idempotency/idempotency-service";
import { RepoService } from "./repos/repo-service";
import { Cluster } from "./cluster/cluster";
import { NodeRouter } from "./rpc/node-router";
import { serveRoutedVerbs } from "./cluster/routed-verbs";
import { ProcessAccess } from "./processes/process-access";
import type { SchedulerApi } from "./scheduler/scheduler-api";
import { closeDatabase, databaseProvider, openDatabase, type Db } from "./store/db";
import { schemaVersion } from "./store/dialect-schema";
import { BranchSync } from "./freshness/branch-sync";
import { LaneDiffService } from "./merge/lane-diff";
import { MergeService } from "./merge/merge-service";
import { LaneAttemptsService } from "./lanes/lane-attempts";
import { PolicyService } from "./policy/policy-service";
import { CheckGuard } from "./checks/check-guard";
import { withCheckSlots } from "./checks/check-slots";
import { classifyWorkerExit } from "./checks/classify-worker";
import { RecoveryService } from "./recovery/recovery-service";
import { LaneSummaryService } from "./workers/lane-summary";
import { WorkerService } from "./workers/worker-service";
import { InteractiveDriver } from "./workers/interactive-driver";
import { WebhookService } from "./webhooks/webhook-service";

export interface Runtime {
  config: Config;
  /** Who is calling: the admin token of `<data-dir>/token`, scoped tokens, session cookies. */
  auth: AuthService;
  /** Scoped tokens (`/api/v1/tokens`): made, listed, revoked. */
  tokens: TokenService;
  db: Db;
  bus: EventBus;
  events: EventLog;
  supervisor: ProcessSupervisor;
  repos: RepoService;
  lanes: LaneService;
  /** The scheduler as this node sees it (the cluster's leader runs it; see server/cluster). */
  scheduler: SchedulerApi;
  /** This server as a node: its id, the node list, requests to other nodes. */
  cluster: Cluster;
  /** One process by id on whichever node runs it (stdin, log pages). */
  processes: ProcessAccess;
  freshness: FreshnessTracker;
  /** Per-repo policy rules. */
  policy: PolicyService;
  /** Merge readiness and the merge action. */
  merge: MergeService;
  /** A lane's diff against its base, for review (list of files, then one file's patch). */
  diff: LaneDiffService;
  /** Every attempt of a lane with its processes, checks, usage and event range. */
  attempts: LaneAttemptsService;
  /** Recovery recipes: one automatic attempt, then escalation. */
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
  /** Flags live lanes that have been silent for `config.stallAfterMs` (`lane.stalled`). */
  stalls: StallDetector;
  /** Long polls until a lane reaches a state (`GET /api/v1/lanes/:id/await`). */
  awaiter: LaneAwaiter;
  /** Interactive agents in tmux (`worker.mode: "interactive"`), wired to `workers`. */
  interactive: InteractiveDriver;
  /** Counters of the worker monitor (engine output followed or passed over), for diagnostics and tests. */
  workerOutputStats: Readonly<WorkerMonitor["stats"]>;
  /** Shut down once; later calls return the same promise. */
  quit(): Promise<void>;
}

export async function createRuntime(config: Config): Promise<Runtime> {
  const db = await openDatabase(config.dataDir, { databaseUrl: config.databaseUrl });
  const auth = new AuthService(await loadOrCreateAdminToken(config.dataDir));
  // Shown nowhere: every view, event and socket message redacts them (lib/redact.ts).
  registerSecrets([auth.adminToken, config.anthropicApiKey, config.openaiApiKey, ...withheldEnvValues()]);
  const bus = new EventBus();
  const events = new EventLog(db, bus);
  // This server as a node: a live node with the same id refuses this one (nothing else started yet).
  const cluster = await Cluster.join({ config, db, events, schemaVersion: schemaVersion(databaseProvider(db)) }).catch(async (err: unknown) => {
    await closeDatabase(db);
    throw err;
  });
  const supervisor = new ProcessSupervisor({
    db,
    events,
    bus,
    dataDir: config.dataDir,
    nodeId: cluster.nodeId,
    killGraceMs: config.killGraceMs,
    logMaxBytesPerProcess: config.logMaxBytesPerProcess,
    logMaxBytesTotal: config.logMaxBytesTotal,
    cgroups: config.processCgroups,
  });
  // New lanes' worktrees, checked out after their create answered; read only once ready.
  const checkouts = new WorktreeCheckouts({ runCheckoutHook: (repoId) => policy.store.get(repoId).runCheckoutHook });
  const worktreeReady = (laneId: string) => checkouts.ready(laneId);
  const freshness = new FreshnessTracker({ db, events, worktreeReady });
  const policy = new PolicyService({ db, events, dataDir: config.dataDir });
  const sync = new BranchSync({ db, events, freshness });
  const repos = new RepoService(db, events);
  const tokens = new TokenService({ db, auth, events, repos });
  await tokens.load();
  tokens.followOtherNodes(bus);
  const summaries = new LaneSummaryService({ db, bus });
  // This node's view of the scheduler (server/cluster/cluster-scheduler.ts); opened below, from
  // the Lane rows, before the supervisor reattaches.
  const scheduler: SchedulerApi = cluster.scheduler;
  // Verbs owned by the node that runs a lane or process (kill, logs, prompts, stdin) go there.
  const router = new NodeRouter(cluster.rpc, db);
  const processes = new ProcessAccess({ supervisor, router });
  const recovery = new RecoveryService({ db, events, bus, policy, freshness, sync, supervisor });
  const merge = new MergeService({ db, events, freshness, policy, recovery, dataDir: config.dataDir, worktreeReady });
  const workers = new WorkerService({ db, events, bus, scheduler, summaries, dataDir: config.dataDir, router });
  const engineSettings = agentEngineSettings(config);
  const interactive = new InteractiveDriver({
    db,
    dataDir: config.dataDir,
    tmuxBin: config.tmuxBin,
    trustedRepos: config.trustedRepos,
    settings: { anthropicBaseUrl: engineSettings.anthropicBaseUrl, anthropicApiKey: engineSettings.anthropicApiKey, claudeBin: engineSettings.claudeBin, claudeModel: engineSettings.claudeModel },
    workers,
  });
  const runner = new LaneRunner({
    db,
    events,
    bus,
    supervisor,
    dataDir: config.dataDir,
    nodeId: cluster.nodeId,
    engineSettings,
    interactive,
    checkouts,
    onLaneActivity: (laneId) => void freshness.refresh(laneId),
    // Each check run waits for a slot in the scheduler's check pool (caps global and per repo).
    checkHooks: withCheckSlots(new CheckGuard({ events, freshness, policy, sync, recovery, merge }), { bus, acquire: (o) => scheduler.acquire("check", o) }),
    classifyWorkerFailure: (lane, exit) => classifyWorkerExit(supervisor, lane, exit),
  });
  // One node: rebuilt from the Lane rows now, so exits found at boot settle into it. Several: the
  // leader rebuilds it once elected (server/cluster/cluster.ts).
  await cluster.openScheduler(runner, { db, events, bus });
  const views = new LaneViews({ db, scheduler, summaries, freshness, bus, sessions: workers });
  const lanes = new LaneService({
    db,
    events,
    repos,
    runner,
    supervisor,
    scheduler,
    views,
    router,
    processes,
    dataDir: config.dataDir,
    killGraceMs: config.killGraceMs,
    onLaneCreated: (laneId, repoId) => freshness.laneCreated(laneId, repoId),
    checkouts,
  });

  // Lane lifecycle commands asked for by services built before the lanes (server/events/event-bus.ts).
  // One node starts the lane itself; several hand it to a node with a free slot (the dispatcher).
  bus.handle("lane.start", ({ laneId }) => cluster.startLane(laneId));
  bus.handle("lane.stop", ({ laneId, failureClass, reason }) => runner.stopLane(laneId, failureClass, reason));
  bus.handle("lane.restart", ({ laneId, by }) => lanes.restart(laneId, { by }));
  bus.handle("lane.kill", ({ laneId, graceMs, by }) => lanes.kill(laneId, { graceMs, by }));
  serveRoutedVerbs(router, { lanes, workers, supervisor });
  bus.on("process.output", runner.handleProcessOutput);
  bus.on("process.exit", runner.handleProcessExit);
  bus.on("lane.event", recovery.handleEvent);
  bus.on("lane.event", (e) => void (e.type === "repo.registered" && e.repoId && policy.loadRepo(e.repoId)));
  await policy.start();
  const webhooks = new WebhookService({ db, bus, cluster: cluster.shared });
  await webhooks.start();
  await cluster.beforeRecover(supervisor);
  await supervisor.recover();
  // A merge the last server stopped in the middle of: recorded as it ended, before any request.
  await merge.recoverInterrupted().catch((err) => console.warn("[merge] settling an interrupted merge failed", err));
  // Lanes the last server stopped in the middle of starting: completed with their process, or started again if it never ran.
  await runner.recoverStarts();
  // A kill the last server stopped in the middle of (its grace period): finished now.
  await lanes.resumeKills().catch((err) => console.warn("[lanes] resuming interrupted kills failed", err));
  // After recover(): the hosts of live interactive lanes are adopted; watch their sessions again.
  await interactive.reattachAll().catch((err) => console.warn("[interactive] reattach failed", err));
  const stalls = new StallDetector({ db, bus, events, stallAfterMs: config.stallAfterMs });
  await stalls.start();
  await cluster.run();
  await scheduler.kick();
  let quitting: Promise<void> | null = null;
  await freshness.start();
  void freshness.refreshAll("boot").catch(() => undefined);
  // The lane read model loads in the background (a list asked for meanwhile waits for it).
  void views.warm().catch((err: unknown) => {
    if (!quitting) console.warn("[lanes] loading the lane views failed", err);
  });

  const quit = async () => {
    lanes.stopAccepting();
    await checkouts.settled();
    await cluster.leave();
    policy.stop();
    stalls.stop();
    await Promise.allSettled([recovery.stop(), merge.stop(), webhooks.stop()]);
    await Promise.allSettled([freshness.stop(), scheduler.stop()]);
    // Detach first so the agents outlive the server; with killOnExit the hosts' traps end the sessions.
    await interactive.shutdown({ kill: false });
    await Promise.allSettled([supervisor.shutdown({ kill: config.killOnExit })]);
    if (config.killOnExit) await interactive.shutdown({ kill: true });
    await cluster.quit({ killedLanes: config.killOnExit }).catch((err) => console.error("[cluster] leaving failed", err));
    await events.flush();
    summaries.close();
    views.stop();
    await closeDatabase(db);
  };
  return {
    config,
    auth,
    tokens,
    db,
    bus,
    events,
    supervisor,
    repos,
    lanes,
    scheduler,
    cluster,
    freshness,
    policy,
    merge,
    diff: new LaneDiffService({ db }),
    attempts: new LaneAttemptsService({ db, events }),
    recovery,
    workers,
    summaries,
    webhooks,
    stalls,
    awaiter: new LaneAwaiter({ db, bus, lanes: { get: (id) => lanes.get(id) } }),
    interactive,
    workerOutputStats: runner.monitor.stats,
    logStreams: new ProcessLogStreams({ supervisor, bus, processes, router }),
    processes,
    idempotency: new IdempotencyService({ db }),
    quit: () => (quitting ??= quit()),
  };
}
