/**
 * The composition root: builds every runtime service once, wires their events, and shuts them
 * down once. Nothing else constructs these services (house style §1).
 *
 * Boot order: database (migrations applied) → bus and event log → supervisor → services →
 * subscriptions → supervisor.recover() (reattach / reap / mark lost; exits are delivered to the
 * lane runner through the bus) → scheduler dispatch and freshness timer.
 *
 * Shutdown ({@link Runtime.quit}, idempotent): stop accepting work (lanes, scheduler), stop the
 * freshness timer, stop the supervisor's readers (killing process groups only with
 * `killOnExit`), flush the event log, close the database.
 */
import type { Config } from "./config";
import { EventBus } from "./events/event-bus";
import { EventLog } from "./events/event-log";
import { FreshnessTracker } from "./lanes/freshness";
import { LaneRunner } from "./lanes/lane-runner";
import { LaneService } from "./lanes/lane-service";
import { ProcessSupervisor } from "./processes/supervisor";
import { RepoService } from "./repos/repo-service";
import { Scheduler } from "./scheduler/scheduler";
import { closeDatabase, openDatabase, type Db } from "./store/db";

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
  });
  const freshness = new FreshnessTracker({ db, events, intervalMs: 2000 });
  // The scheduler and the runner refer to each other through callbacks (called only after both exist).
  const scheduler: Scheduler = new Scheduler({ db, startLane: (id) => runner.start(id), workerCap: config.workerCap });
  const runner: LaneRunner = new LaneRunner({
    db,
    events,
    supervisor,
    dataDir: config.dataDir,
    onSlotFreed: () => void scheduler.kick(),
    onLaneActivity: (laneId) => void freshness.refresh(laneId),
  });
  const repos = new RepoService(db, events);
  const lanes = new LaneService({
    db,
    events,
    repos,
    runner,
    supervisor,
    scheduler,
    dataDir: config.dataDir,
    killGraceMs: config.killGraceMs,
    onLaneCreated: (laneId) => void freshness.refresh(laneId),
  });

  bus.on("process.exit", runner.handleProcessExit);
  await supervisor.recover();
  await scheduler.kick();
  freshness.start();
  for (const lane of await db.lane.findMany({ select: { id: true } })) void freshness.refresh(lane.id);

  let quitting: Promise<void> | null = null;
  const quit = async () => {
    lanes.stopAccepting();
    await Promise.allSettled([freshness.stop(), scheduler.stop()]);
    await Promise.allSettled([supervisor.shutdown({ kill: config.killOnExit })]);
    await events.flush();
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
    quit: () => (quitting ??= quit()),
  };
}
