/**
 * The leader's watch over the other nodes' leases. A node is lost when the leader has seen its
 * heartbeat stand still for a whole lease (`leaseMs`, default 30 s) of its own uninterrupted
 * watching, and the database's clock agrees. Counting on the leader's own watch, not only on the
 * row's age, keeps a database restart or a new leader from declaring everybody lost at once: any
 * failed check, and a change of leader, starts every watch afresh.
 *
 * A lost node's running lanes are settled `lost` with `lane.failed` (class `lost`, reason
 * `node_lost`, naming the node), its workers and processes are marked lost, its waiting start jobs
 * are dropped, and `node.lost` lists them. The recovery service then queues each lane again once
 * (recipe `requeue-on-another-node`, per the repo's policy); a second loss escalates. The lost
 * node's own processes were paused by its fence (server/cluster/fence.ts) before the lease ran
 * out, so a lane never runs on two nodes; if the node comes back it kills them.
 */
import type { EventLog } from "../events/event-log";
import { transitionLane, type LaneRow } from "../records/lane-store";
import type { Db } from "../store/db";
import { applyWorkerEvent } from "../workers/worker-state-machine";
import { lanesOnNodes, laneSlots } from "./dispatcher";
import type { LaneStartQueue } from "./lane-queue";
import type { NodeRegistry } from "./node-registry";

const LIVE_LANE_STATES = ["starting", "running", "checking"];
const LIVE_WORKER_STATES = ["spawning", "trust_required", "ready_for_prompt", "prompt_accepted", "running", "blocked"];

export interface LeaseWatchDeps {
  db: Db;
  events: EventLog;
  registry: NodeRegistry;
  queue: LaneStartQueue;
  /** This code's schema version: only nodes on it are given lanes (as the dispatcher's rule). */
  schemaVersion: string;
  /**
   * A node appeared, came back, stopped or was lost, or the slot count changed (and at the first
   * check): `capacity` is the cluster's lane slots ({@link laneSlots}: those of the nodes the
   * dispatcher may place lanes on now, this one included, plus the lanes running elsewhere).
   */
  onCapacityChange: (capacity: number) => void;
  /** A node was declared lost (after its lanes were settled). */
  onLost: (nodeId: string) => void;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
}

export class LeaseWatch {
  /** nodeId → the heartbeat last seen and since when (leader's monotonic clock). */
  readonly #seen = new Map<string, { heartbeatAt: number; since: number; alive: boolean }>();
  #timer: NodeJS.Timeout | null = null;
  /** The capacity last reported (null: none yet since {@link start}). */
  #capacity: number | null = null;
  #running: Promise<void> | null = null;
  readonly #now: () => number;

  constructor(private readonly deps: LeaseWatchDeps) {
    this.#now = deps.now ?? (() => performance.now());
  }

  #intervalMs = 5000;

  /** Check every `intervalMs` (a sixth of the shortest lease is plenty). */
  start(intervalMs: number): void {
    this.#intervalMs = intervalMs;
    this.#seen.clear();
    this.#capacity = null;
    this.#timer = setInterval(() => void this.check(), intervalMs);
    this.#timer.unref();
    void this.check();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** One round (coalesced). Never throws: a failed round restarts every watch. */
  check(): Promise<void> {
    return (this.#running ??= this.#check()
      .catch((err: unknown) => {
        this.#seen.clear();
        console.warn(`[cluster] lease check failed (watching afresh): ${(err as Error).message}`);
      })
      .finally(() => (this.#running = null)));
  }

  async #check(): Promise<void> {
    const began = this.#now();
    const rows = await this.deps.registry.rows();
    const now = this.#now();
    // A check that waited out a database outage (queries stall meanwhile) saw nobody beat because
    // nobody could: that is no evidence against anyone. Watch afresh.
    if (now - began > 2 * this.#intervalMs) {
      this.#seen.clear();
      return;
    }
    let changed = false;
    const nodes: Parameters<typeof laneSlots>[0] = [];
    for (const row of rows) {
      const hb = row.heartbeatAt.getTime();
      const alive = row.status === "alive" && row.dbNow - hb < row.leaseMs;
      nodes.push({ id: row.id, alive, schemaVersion: row.schemaVersion, capacity: row.capacity });
      if (row.id === this.deps.registry.id) continue;
      const seen = this.#seen.get(row.id);
      if (!seen || seen.heartbeatAt !== hb) {
        if (!seen || seen.alive !== alive) changed = true;
        this.#seen.set(row.id, { heartbeatAt: hb, since: now, alive });
        continue;
      }
      if (row.status === "lost") continue;
      if (now - seen.since >= row.leaseMs && row.dbNow - hb >= row.leaseMs) {
        if (await this.deps.registry.markLost(row.id, row.instance, row.heartbeatAt)) {
          await this.#settleLost(row.id, row.heartbeatAt, row.leaseMs);
          this.deps.onLost(row.id);
          changed = true;
        }
      }
    }
    const capacity = laneSlots(nodes, await lanesOnNodes(this.deps.db), this.deps.schemaVersion);
    if (changed || capacity !== this.#capacity) {
      this.#capacity = capacity;
      this.deps.onCapacityChange(capacity);
    }
  }

  async #settleLost(nodeId: string, heartbeatAt: Date, leaseMs: number): Promise<void> {
    const { db, events } = this.deps;
    const lanes = await db.lane.findMany({ where: { nodeId, state: { in: LIVE_LANE_STATES } } });
    const silentS = Math.round((Date.now() - heartbeatAt.getTime()) / 1000);
    await events.append({ type: "node.lost", laneId: null, repoId: null, payload: { nodeId, lastHeartbeatAt: heartbeatAt.toISOString(), leaseMs, laneIds: lanes.map((l) => l.id) } });
    await this.deps.queue.purge(nodeId).catch((err: unknown) => console.warn(`[cluster] dropping ${nodeId}'s start jobs failed: ${(err as Error).message}`));
    await db.process.updateMany({ where: { nodeId, status: { in: ["starting", "running"] } }, data: { status: "lost", endedAt: new Date() } });
    for (const lane of lanes) await this.#loseLane(lane, nodeId, `node ${nodeId} was lost: no heartbeat for ${silentS} s (lease ${leaseMs / 1000} s)`);
  }

  async #loseLane(lane: Pick<LaneRow, "id" | "repoId" | "state" | "stateVersion">, nodeId: string, reason: string): Promise<void> {
    const { db, events } = this.deps;
    const workers = await db.worker.findMany({ where: { laneId: lane.id, state: { in: LIVE_WORKER_STATES } }, select: { id: true } });
    for (const w of workers) await applyWorkerEvent({ db, events }, w.id, "lose", { repoId: lane.repoId }).catch(() => undefined);
    const lost = await transitionLane({ db, events }, lane, "lost", { endedAt: new Date() });
    if (!lost) return;
    await events.append({
      type: "lane.failed",
      laneId: lane.id,
      repoId: lane.repoId,
      payload: { exitCode: null, signal: null, failureClass: "lost", reason, failureReason: "node_lost", summary: reason, evidence: [`node ${nodeId}`], role: "worker" },
    });
  }
}
