/**
 * Where a lane runs: the leader's scheduler decides *which* lanes start (caps, priorities,
 * fairness, dependencies, budgets: the same {@link Scheduler} as on one node), and this decides
 * *on which node*, then hands the lane over through the node's pg-boss queue.
 *
 * A node may run a lane when it is alive (heartbeat within its lease), runs the same schema
 * version, accepts the lane's repo and engine (`--node-repos`, `--node-engines`) and has a free
 * slot: its capacity (`--worker-cap`) minus its lanes `starting` or `running`. A lane goes back to
 * the node that ran it before when that node can take it (its worktree is there), else to the
 * node with the most free slots (ties: node id).
 *
 * The hand-over is one transaction: the guarded `queued → starting` write naming the node
 * (server/store/sql/cluster-postgresql.ts) and the start job; a lane changed meanwhile (killed,
 * rescheduled) is not claimed, and a claim never exists without its job. No eligible node with a
 * free slot: the lane stays queued (the scheduler offers it again when a slot frees or a node
 * joins), and the reason is remembered for its view.
 */
import pg from "pg";
import type { LaneRow } from "../records/lane-store";
import type { Db } from "../store/db";
import { claimLane } from "../store/sql/cluster-postgresql";
import type { EventLog } from "../events/event-log";
import type { LaneStartQueue } from "./lane-queue";
import type { NodeRegistry, NodeRecord } from "./node-registry";

type RepoNames = { id: string; name: string; path: string };

/** May lanes be placed on `node` at all (alive, on this code's schema version)? Its repos, engines and free slots aside. */
export function placeable(node: Pick<NodeRecord, "alive" | "schemaVersion">, schemaVersion: string): boolean {
  return node.alive && node.schemaVersion === schemaVersion;
}

/**
 * Lanes `starting` or `running` per node id (null: lanes with no node, from before the cluster):
 * what takes a node's slots.
 */
export async function lanesOnNodes(db: Db): Promise<Map<string | null, number>> {
  const groups = await db.lane.groupBy({ by: ["nodeId"], where: { state: { in: ["starting", "running"] } }, _count: { _all: true } });
  return new Map(groups.map((g) => [g.nodeId, g._count._all]));
}

/**
 * The lane slots of a cluster as the scheduler counts them (it counts every lane starting or
 * running, wherever): every slot of the placeable nodes, plus the lanes that hold no placeable
 * slot (on a node stopping, lost or on another schema version, with no node, or beyond a node's
 * lowered capacity), so that slots minus the lanes running is exactly the free slots lanes can be
 * placed in — no fewer while a stopping node's lanes run on, no more.
 * @param running lanes starting or running per node id ({@link lanesOnNodes})
 */
export function laneSlots(nodes: Pick<NodeRecord, "id" | "alive" | "schemaVersion" | "capacity">[], running: ReadonlyMap<string | null, number>, schemaVersion: string): number {
  const open = new Set(nodes.filter((n) => placeable(n, schemaVersion)).map((n) => n.id));
  let slots = 0;
  for (const n of nodes) if (open.has(n.id)) slots += Math.max(n.capacity, running.get(n.id) ?? 0);
  for (const [id, count] of running) if (id === null || !open.has(id)) slots += count;
  return slots;
}

/** Does `node` accept lanes of this repo and engine? (`repos` lists ids, names or paths.) */
export function nodeAccepts(node: Pick<NodeRecord, "repos" | "engines">, repo: RepoNames, engine: string): boolean {
  if (node.repos && !node.repos.some((r) => r === repo.id || r === repo.name || r === repo.path)) return false;
  if (node.engines && !node.engines.includes(engine)) return false;
  return true;
}

/**
 * Pick a node for a lane among `nodes` (already filtered to eligible ones) with `running` lanes
 * each ({@link lanesOnNodes}): the lane's previous node if it has a free slot, else the most free
 * slots, ties by id.
 * @returns the node id, or null when none has a free slot
 */
export function chooseNode(nodes: Pick<NodeRecord, "id" | "capacity">[], running: ReadonlyMap<string | null, number>, previous: string | null): string | null {
  const free = (n: Pick<NodeRecord, "id" | "capacity">) => n.capacity - (running.get(n.id) ?? 0);
  const open = nodes.filter((n) => free(n) > 0);
  if (open.length === 0) return null;
  const back = open.find((n) => n.id === previous);
  if (back) return back.id;
  return [...open].sort((a, b) => free(b) - free(a) || (a.id < b.id ? -1 : 1))[0]!.id;
}

export interface DispatcherDeps {
  db: Db;
  url: string;
  events: EventLog;
  registry: NodeRegistry;
  queue: LaneStartQueue;
  /** This code's schema version: nodes on another one get no lanes. */
  schemaVersion: string;
}

export class Dispatcher {
  readonly #pool: pg.Pool;
  /** Why a lane could not be placed at its last try (for its view). */
  readonly unplaced = new Map<string, string>();

  constructor(private readonly deps: DispatcherDeps) {
    this.#pool = new pg.Pool({ connectionString: deps.url, max: 2, application_name: "laneboard-dispatch" });
    this.#pool.on("error", () => undefined);
  }

  /**
   * Hand a queued lane to a node (the scheduler's `startLane` on the leader).
   * @returns true when it was claimed for a node; false when it is no longer queued or no node
   *   can take it now (it stays queued)
   */
  async assign(laneId: string): Promise<boolean> {
    const { db } = this.deps;
    const lane = await db.lane.findUnique({ where: { id: laneId }, include: { repo: { select: { id: true, name: true, path: true } } } });
    if (!lane || lane.state !== "queued") return false;
    const nodes = (await this.deps.registry.list()).filter((n) => placeable(n, this.deps.schemaVersion));
    const eligible = nodes.filter((n) => nodeAccepts(n, lane.repo, lane.engine));
    const running = await lanesOnNodes(db);
    const nodeId = chooseNode(eligible, running, lane.nodeId);
    if (!nodeId) {
      this.unplaced.set(laneId, eligible.length === 0 ? `no live node accepts repo ${lane.repo.name} and engine ${lane.engine}` : "every node that accepts it is full");
      return false;
    }
    this.unplaced.delete(laneId);
    if (!(await this.#claim(lane, nodeId))) return false;
    await this.deps.events.append({ type: "lane.state_changed", laneId, repoId: lane.repoId, payload: { from: "queued", to: "starting" } });
    return true;
  }

  async #claim(lane: Pick<LaneRow, "id" | "attempt" | "stateVersion">, nodeId: string): Promise<boolean> {
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      const attempt = lane.attempt + 1;
      if (!(await claimLane(client, lane.id, lane.stateVersion, { nodeId, attempt, startedAt: new Date() }))) {
        await client.query("ROLLBACK");
        return false;
      }
      await this.deps.queue.sendWithin(client, nodeId, { laneId: lane.id, attempt });
      await client.query("COMMIT");
      return true;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Close the pool. Never throws. */
  async stop(): Promise<void> {
    await this.#pool.end().catch(() => undefined);
  }
}
