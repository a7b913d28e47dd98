/**
 * This server as a node (docs/scale-out.md): the one place that wires the cluster parts, built by
 * the composition root. On SQLite there is one node and nothing to share: it registers itself and
 * runs the scheduler. On PostgreSQL, every server on the database is a node:
 *
 * - boot ({@link Cluster.join}): claim the node id (a live duplicate is refused), tell the node
 *   and the others about its clock, follow other nodes' events, start the job queue;
 * - {@link Cluster.beforeRecover}: kill processes the leader took away while the node was gone;
 * - {@link Cluster.start}: resume paused processes, work this node's start jobs, heartbeat,
 *   stand for leader (the leader runs the scheduler, the dispatcher and the lease watch);
 * - {@link Cluster.quit}: stop all that, the node row says `stopped`.
 *
 * A node whose code is older than the database's schema stops taking lanes (it was refused at
 * boot if it was older then; this covers a newer node migrating while it runs).
 */
import os from "node:os";
import type { NodesResponse } from "@/lib/node-view";
import type { Config } from "../config";
import type { EventLog } from "../events/event-log";
import type { LaneRunner } from "../lanes/lane-runner";
import type { ProcessSupervisor } from "../processes/supervisor";
import type { Db } from "../store/db";
import { databaseProvider } from "../store/db";
import type { SchedulerDeps } from "../scheduler/scheduler";
import { ClusterScheduler } from "./cluster-scheduler";
import { Dispatcher } from "./dispatcher";
import { ClusterEventFeed } from "./event-feed";
import { Fence } from "./fence";
import { LeaderElection, leaderInstance } from "./leader";
import { LaneStartQueue } from "./lane-queue";
import { LeaseWatch } from "./lease-watch";
import { ClusterListener } from "./listener";
import { CLOCK_SKEW_WARN_MS, clockSurelyOff, NodeRegistry } from "./node-registry";
import { ClusterRpc } from "../rpc/rpc";

/** The node id when none is given: host name and data dir (unique per server on a host). */
export function defaultNodeId(dataDir: string): string {
  return `${os.hostname()}:${dataDir}`;
}

export interface ClusterJoin {
  config: Config;
  db: Db;
  events: EventLog;
  /** The newest migration this code knows. */
  schemaVersion: string;
}

/** Scheduler parts that exist only once the runtime's services are built. */
export type SchedulerParts = Omit<SchedulerDeps, "workerCap">;

export class Cluster {
  readonly nodeId: string;
  readonly rpc: ClusterRpc;
  readonly registry: NodeRegistry;
  /** Multi-node capable (PostgreSQL). */
  readonly shared: boolean;
  readonly scheduler: ClusterScheduler;
  #runner: LaneRunner | null = null;
  #parts: SchedulerParts | null = null;
  #listener: ClusterListener | null = null;
  #feed: ClusterEventFeed | null = null;
  #queue: LaneStartQueue | null = null;
  #dispatcher: Dispatcher | null = null;
  #election: LeaderElection | null = null;
  #lease: LeaseWatch | null = null;
  #fence: Fence | null = null;
  #beat: NodeJS.Timeout | null = null;
  #skewTold = false;
  #retired = false;
  /** Shutting down: heartbeats say `stopped` (see {@link Cluster.leave}). */
  #leaving = false;
  #leaderCache: { at: number; id: string | null } | null = null;

  private constructor(private readonly j: ClusterJoin) {
    const { config, db } = j;
    this.nodeId = config.nodeId ?? defaultNodeId(config.dataDir);
    this.shared = databaseProvider(db) === "postgresql";
    this.rpc = new ClusterRpc(this.nodeId);
    this.registry = new NodeRegistry(db, {
      id: this.nodeId, dataDir: config.dataDir, url: config.nodeUrl ?? null, capacity: config.workerCap,
      repos: config.nodeRepos ?? null, engines: config.nodeEngines ?? null, schemaVersion: j.schemaVersion, leaseMs: config.nodeLeaseMs,
    });
    this.scheduler = new ClusterScheduler({
      db,
      rpc: this.rpc,
      schedulerDeps: () => this.#schedulerDeps(),
      leader: () => this.#leader(),
    });
  }

  /**
   * Register this node, and on PostgreSQL start following the cluster.
   * @throws AppError("conflict") when another live node holds the id
   */
  static async join(j: ClusterJoin): Promise<Cluster> {
    const c = new Cluster(j);
    const { previous, clockSkewMs, clockRttMs } = await c.registry.register();
    const { events, config } = j;
    if (c.shared) {
      const url = config.databaseUrl!;
      events.followCluster(await events.latestId());
      c.#listener = new ClusterListener({ url });
      c.#feed = new ClusterEventFeed({ events, listener: c.#listener });
      c.#queue = new LaneStartQueue({ url, nodeId: c.nodeId, listener: c.#listener });
      await c.#listener.start();
      c.#feed.start();
      await c.#queue.start();
    }
    const restarted = previous !== null && previous.status !== "stopped";
    await events.append({ type: "node.joined", laneId: null, repoId: null, payload: { nodeId: c.nodeId, host: c.registry.host, capacity: config.workerCap, clockSkewMs, restarted } });
    c.#tellSkew(clockSkewMs, clockRttMs);
    return c;
  }

  /** Kill processes whose lanes the leader moved away while this node was gone (before reattaching). */
  async beforeRecover(supervisor: ProcessSupervisor): Promise<void> {
    if (!this.shared) return;
    this.#fence = new Fence({ dataDir: this.j.config.dataDir, leaseMs: this.j.config.nodeLeaseMs, nodeId: this.nodeId, db: this.j.db, supervisor });
    const killed = await this.#fence.killLost();
    if (killed) console.warn(`[cluster] killed ${killed} process group(s) whose lanes were moved to other nodes while this node was away`);
  }

  /** Give the scheduler what it needs; one node (SQLite): open it now, before processes are reattached. */
  async openScheduler(runner: LaneRunner, parts: SchedulerParts): Promise<void> {
    this.#runner = runner;
    this.#parts = parts;
    if (!this.shared) await this.scheduler.lead();
  }

  /** Run (PostgreSQL): resume what the fence paused, take start jobs, heartbeat, stand for leader. */
  async run(): Promise<void> {
    if (!this.shared) return;
    const runner = this.#runner!;
    const { config, db, events } = this.j;
    this.#fence!.start();
    this.#fence!.resumeAll();
    await this.#queue!.work(async (job) => {
      await runner.runClaimed(job.laneId, job.attempt);
    });
    this.#dispatcher = new Dispatcher({ db, url: config.databaseUrl!, events, registry: this.registry, queue: this.#queue!, schemaVersion: this.j.schemaVersion });
    this.#lease = new LeaseWatch({
      db, events, registry: this.registry, queue: this.#queue!, schemaVersion: this.j.schemaVersion,
      onCapacityChange: (capacity) => {
        this.scheduler.setNodeSlots(capacity);
        void this.scheduler.kick();
      },
      onLost: (nodeId) => this.scheduler.releaseNode(nodeId),
    });
    const leaseMs = config.nodeLeaseMs;
    this.#election = new LeaderElection({
      url: config.databaseUrl!,
      instance: this.registry.instance,
      intervalMs: Math.max(200, Math.min(2000, Math.floor(leaseMs / 6))),
      events: {
        elected: () => {
          this.#leaderCache = null;
          console.log(`[cluster] node ${this.nodeId} leads the cluster (scheduler, dispatch, leases)`);
          // The watch first: its first check counts the live nodes' slots, which bound the
          // scheduler's first pass (else a full cluster would be offered every queued lane).
          this.#lease?.start(Math.max(100, Math.floor(leaseMs / 6)));
          void Promise.resolve(this.#lease?.check()).then(() => this.scheduler.lead()).catch((err) => console.error("[cluster] taking the lead failed", err));
        },
        deposed: (reason) => {
          this.#leaderCache = null;
          console.warn(`[cluster] node ${this.nodeId} no longer leads: ${reason}`);
          void this.#lease?.stop();
          void this.scheduler.follow();
        },
      },
    });
    this.#election.start();
    this.#beat = setInterval(() => void this.#heartbeat(), Math.max(100, Math.floor(leaseMs / 3)));
    this.#beat.unref();
  }

  /** Every node with its running lanes and whether it leads (`GET /api/v1/nodes`). */
  async nodes(): Promise<NodesResponse> {
    const [nodes, groups, leader] = await Promise.all([
      this.registry.list(),
      this.j.db.lane.groupBy({ by: ["nodeId"], where: { state: { in: ["starting", "running"] }, nodeId: { not: null } }, _count: { _all: true } }),
      this.#leader().catch(() => null),
    ]);
    const running = new Map(groups.map((g) => [g.nodeId!, g._count._all]));
    return { self: this.nodeId, nodes: nodes.map((n) => ({ ...n, running: running.get(n.id) ?? 0, leader: n.id === leader })) };
  }

  /**
   * The server begins to shut down: out of placement at once. The row says `stopped` (heartbeats
   * go on until {@link quit}, so the node is not declared lost meanwhile), so the leader sends it
   * no new lane while its runtime winds down; a lane placed there now would wait, `starting`, until
   * the stopped node's lease ran out. Idempotent; a no-op on one node.
   */
  async leave(): Promise<void> {
    if (!this.shared || this.#leaving) return;
    this.#leaving = true;
    if (!this.#retired) await this.registry.markStopped();
  }

  /** The runtime is stopping: stop leading, working and beating; the row says `stopped`. */
  async quit(opts: { killedLanes: boolean }): Promise<void> {
    if (this.#beat) clearInterval(this.#beat);
    await this.#election?.stop();
    await this.#lease?.stop();
    await this.scheduler.stop();
    await this.#queue?.stop();
    await this.#dispatcher?.stop();
    await this.#feed?.stop();
    await this.#listener?.stop();
    if (opts.killedLanes) this.#fence?.retire();
    if (!this.#retired) {
      await this.j.events.append({ type: "node.stopped", laneId: null, repoId: null, payload: { nodeId: this.nodeId } }).catch(() => undefined);
      await this.registry.markStopped();
    }
  }

  /**
   * Start a lane the scheduler chose (the answer to the bus request `lane.start`): one node starts
   * it itself; several hand it to a node with a free slot through the dispatcher.
   * @returns false when the lane was no longer queued (or no node could take it)
   */
  startLane(laneId: string): Promise<boolean> {
    if (!this.shared) return this.#runner!.start(laneId);
    if (!this.#dispatcher) return Promise.resolve(false);
    return this.#dispatcher.assign(laneId);
  }

  #schedulerDeps(): SchedulerDeps {
    const parts = this.#parts!;
    // The cluster's global agent cap is set through the API (PUT /api/v1/scheduler/caps); each
    // node's --worker-cap bounds only that node.
    return { ...parts, workerCap: this.shared ? null : this.j.config.workerCap };
  }

  /** When the heartbeat in flight began (performance.now), null when none is; and whether its wait was logged. */
  #beating: number | null = null;
  #stallTold = false;

  async #heartbeat(): Promise<void> {
    // While the database is away a heartbeat waits; the next ones do not pile up behind it, but
    // the wait is said once (a node that only stalls would otherwise say nothing until it ends).
    if (this.#beating !== null) return this.#tellStall(performance.now() - this.#beating);
    const began = performance.now();
    this.#beating = began;
    try {
      const beat = await this.registry.heartbeat(this.#leaving ? "stopped" : "alive");
      if (this.#stallTold) console.warn(`[cluster] heartbeat renewed the lease after ${((performance.now() - began) / 1000).toFixed(1)} s`);
      this.#stallTold = false;
      if (!beat.ours) {
        console.error(`[cluster] node id ${this.nodeId} was taken over by another process: this one stops taking lanes`);
        this.#retired = true;
        if (this.#beat) clearInterval(this.#beat);
        await this.#election?.stop();
        await this.#queue?.stop();
        return;
      }
      this.#fence?.renewed();
      if (beat.wasStatus === "lost") {
        const killed = await this.#fence!.killLost();
        console.warn(`[cluster] node ${this.nodeId} is back after being declared lost; killed ${killed} process group(s) whose lanes moved on`);
      }
      this.#fence?.resumeAll();
      this.#tellSkew(beat.clockSkewMs, beat.clockRttMs);
      await this.#checkSchema();
    } catch (err) {
      this.#stallTold = false;
      console.warn(`[cluster] heartbeat failed (the lease holds for ${this.j.config.nodeLeaseMs / 1000} s): ${(err as Error).message}`);
    } finally {
      this.#beating = null;
    }
  }

  #tellStall(waitedMs: number): void {
    if (this.#stallTold) return;
    this.#stallTold = true;
    const leaseS = this.j.config.nodeLeaseMs / 1000;
    console.warn(
      `[cluster] heartbeat has waited ${(waitedMs / 1000).toFixed(1)} s for the database (the lease holds for ${leaseS} s; ` +
        "past it this node's fence pauses its lanes until a heartbeat gets through)",
    );
  }

  /** A newer node migrated the database meanwhile: this older one stops taking lanes. */
  async #checkSchema(): Promise<void> {
    const [row] = await this.j.db.$queryRaw<{ latest: string | null }[]>`
      SELECT max("migration_name") AS "latest" FROM "_prisma_migrations" WHERE "finished_at" IS NOT NULL AND "rolled_back_at" IS NULL`;
    if (!row?.latest || row.latest <= this.j.schemaVersion || this.#retired) return;
    console.error(`[cluster] the database schema (${row.latest}) is newer than this node's (${this.j.schemaVersion}): this node stops taking lanes; upgrade it`);
    this.#retired = true;
    await this.#election?.stop();
    await this.#queue?.stop();
  }

  /** Tell once when the clock is surely off; a slow round trip that cannot tell either way changes nothing. */
  #tellSkew(clockSkewMs: number, rttMs: number): void {
    const far = clockSurelyOff(clockSkewMs, rttMs);
    if (!far && Math.abs(clockSkewMs) + rttMs / 2 > CLOCK_SKEW_WARN_MS) return;
    if (far && !this.#skewTold) {
      console.warn(
        `[cluster] this node's clock is ${(Math.abs(clockSkewMs) / 1000).toFixed(1)} s ${clockSkewMs > 0 ? "ahead of" : "behind"} the database server's: ` +
          "leases use the database's clock, but event times and the board's ages use this one. Fix the clock (NTP).",
      );
      void this.j.events.append({ type: "node.clock_skew", laneId: null, repoId: null, payload: { nodeId: this.nodeId, clockSkewMs } }).catch(() => undefined);
    }
    this.#skewTold = far;
  }

  async #leader(): Promise<string | null> {
    if (!this.shared) return this.nodeId;
    if (this.#leaderCache && performance.now() - this.#leaderCache.at < 1000) return this.#leaderCache.id;
    const instance = await leaderInstance(this.j.db);
    const row = instance ? await this.j.db.node.findFirst({ where: { instance }, select: { id: true } }) : null;
    this.#leaderCache = { at: performance.now(), id: row?.id ?? null };
    return this.#leaderCache.id;
  }
}
