/**
 * Nodes in the database: every server started on a database is a node (docs/scale-out.md), one
 * `Node` row per node id. {@link NodeRegistry.register} claims the id at boot, refusing an id
 * that another live process holds; {@link NodeRegistry.heartbeat} renews it (database time, so
 * the nodes' own clocks do not matter for leases) and measures the node's clock against the
 * database's; {@link NodeRegistry.markLost} is the leader's guarded write when a lease lapses.
 *
 * Claiming an id takes a transaction-scoped advisory lock on the id, so two nodes booting with
 * the same id at once cannot both pass the check.
 */
import { randomUUID } from "node:crypto";
import os from "node:os";
import type { NodeView } from "@/lib/node-view";
import { AppError } from "@/lib/errors";
import type { Db } from "../store/db";
import { databaseProvider } from "../store/db";

/** What a node says about itself. */
export interface NodeSelf {
  id: string;
  dataDir: string;
  url: string | null;
  capacity: number;
  repos: string[] | null;
  engines: string[] | null;
  schemaVersion: string;
  leaseMs: number;
}

/**
 * A Node row as the board shows it (lib/api.ts `NodeView` without what the cluster adds: its
 * running lanes and whether it leads). `alive`: heartbeat within its lease by the database's clock.
 */
export type NodeRecord = Omit<NodeView, "running" | "leader">;

/** Clock difference from which a node is told its clock is off, in ms. */
export const CLOCK_SKEW_WARN_MS = 2000;

/**
 * Is a measured clock offset surely beyond {@link CLOCK_SKEW_WARN_MS}? The database read its clock
 * at some moment of the round trip, so the true offset lies within `rttMs / 2` of the midpoint
 * estimate (NTP's error bound, RFC 5905 §8). On a loaded machine the round trip can take seconds
 * (the event loop stalls around the query), which alone would look like a skewed clock.
 * @param skewMs midpoint estimate (local minus database), ms
 * @param rttMs the round trip it was measured over, ms
 */
export function clockSurelyOff(skewMs: number, rttMs: number): boolean {
  return Math.abs(skewMs) - rttMs / 2 > CLOCK_SKEW_WARN_MS;
}

/** Advisory lock namespace for node ids (with `hashtext(id)`): "LBND". */
const NODE_LOCK_CLASS = 0x4c424e44;

type NodeRow = {
  id: string; instance: string; host: string; pid: number; dataDir: string; url: string | null; capacity: number; repos: string | null;
  engines: string | null; schemaVersion: string; status: string; leaseMs: number; clockSkewMs: number; startedAt: Date; heartbeatAt: Date;
};

const list = (json: string | null): string[] | null => (json ? (JSON.parse(json) as string[]) : null);

/** Is `pid` a live process on this host? */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface HeartbeatResult {
  /** The row is still this instance's; false: another process took the id (stop acting as this node). */
  ours: boolean;
  /** The row's status before this heartbeat ("lost": the leader declared this node lost meanwhile). */
  wasStatus: string | null;
  clockSkewMs: number;
  /** The round trip the skew was measured over (ms): the estimate is good to half of it. */
  clockRttMs: number;
}

export class NodeRegistry {
  /** This process's instance id (random per start). */
  readonly instance = randomUUID();
  readonly host = os.hostname();

  /**
   * @param clock this node's wall clock, epoch ms (default Date.now; a test gives a skewed one)
   */
  constructor(
    private readonly db: Db,
    private readonly self: NodeSelf,
    private readonly clock: () => number = Date.now,
  ) {}

  get id(): string {
    return this.self.id;
  }

  /**
   * Claim the node id. A row of the same id whose heartbeat is within its lease belongs to a
   * running node, unless it was this very node (same host and data dir) whose process is gone
   * (a restart after a crash): that one is taken over.
   * @returns the previous row (null for a new id) and the clock skew measured
   * @throws AppError("conflict") when the id is held by another live node
   */
  async register(): Promise<{ previous: NodeRecord | null; clockSkewMs: number; clockRttMs: number }> {
    const pg = databaseProvider(this.db) === "postgresql";
    const result = await this.db.$transaction(async (tx) => {
      if (pg) await tx.$queryRaw`SELECT pg_advisory_xact_lock(${NODE_LOCK_CLASS}::int, hashtext(${this.self.id}))::text AS locked`;
      const { dbNow, skew, rtt } = await this.#clock(tx as unknown as Db);
      const prev = (await tx.node.findUnique({ where: { id: this.self.id } })) as NodeRow | null;
      if (prev && prev.status === "alive" && dbNow - prev.heartbeatAt.getTime() < prev.leaseMs) {
        const sameHome = prev.host === this.host && prev.dataDir === this.self.dataDir;
        if (!sameHome || pidAlive(prev.pid)) {
          const age = ((dbNow - prev.heartbeatAt.getTime()) / 1000).toFixed(1);
          throw new AppError(
            "conflict",
            `node id "${this.self.id}" is already running (pid ${prev.pid} on ${prev.host}, data dir ${prev.dataDir}, last heartbeat ${age} s ago): ` +
              "two nodes cannot share a node id. Pick another --node-id (LANEBOARD_NODE_ID), or stop the other node.",
            { nodeId: this.self.id, host: prev.host, pid: prev.pid },
          );
        }
      }
      const data = {
        instance: this.instance, host: this.host, pid: process.pid, dataDir: this.self.dataDir, url: this.self.url, capacity: this.self.capacity,
        repos: this.self.repos ? JSON.stringify(this.self.repos) : null, engines: this.self.engines ? JSON.stringify(this.self.engines) : null,
        schemaVersion: this.self.schemaVersion, status: "alive", leaseMs: this.self.leaseMs, clockSkewMs: Math.round(skew),
        startedAt: new Date(dbNow), heartbeatAt: new Date(dbNow),
      };
      await tx.node.upsert({ where: { id: this.self.id }, create: { id: this.self.id, ...data }, update: data });
      return { previous: prev ? toView(prev, dbNow) : null, clockSkewMs: Math.round(skew), clockRttMs: Math.round(rtt) };
      // A few short statements, but several nodes may boot at once on a busy machine: Prisma's
      // 5 s default would fail a start that is only slow.
    }, { maxWait: 60_000, timeout: 60_000 });
    return result;
  }

  /**
   * Renew this node's lease (database time) and measure its clock. Also revives the row when the
   * leader had declared it lost (the node is back; the caller reconciles its lanes).
   * @param status what the row says from now on: `stopped` while the server shuts down (its lease
   *   still held, so it is not declared lost, but no new lane is placed on it)
   * @throws what the database throws (unreachable: the caller retries at the next beat)
   */
  async heartbeat(status: "alive" | "stopped" = "alive"): Promise<HeartbeatResult> {
    const { skew, rtt } = await this.#clock(this.db);
    const clock = { clockSkewMs: Math.round(skew), clockRttMs: Math.round(rtt) };
    // PostgreSQL only (nodes on SQLite never share a database). The subquery reads the row as it
    // was before this update, so the caller learns whether the leader had declared it lost.
    const rows = await this.db.$queryRaw<{ status: string }[]>`
      UPDATE "Node" AS n SET "heartbeatAt" = (now() AT TIME ZONE 'UTC'), "status" = ${status}, "clockSkewMs" = ${Math.round(skew)}::int
      FROM (SELECT "status" FROM "Node" WHERE "id" = ${this.self.id} AND "instance" = ${this.instance}) AS old
      WHERE n."id" = ${this.self.id} AND n."instance" = ${this.instance}
      RETURNING old."status"`;
    if (rows.length === 0) return { ours: false, wasStatus: null, ...clock };
    return { ours: true, wasStatus: rows[0]!.status, ...clock };
  }

  /** Record a clean stop (lanes keep running; a restart within the lease reattaches them). Never throws. */
  async markStopped(): Promise<void> {
    await this.db.node.updateMany({ where: { id: this.self.id, instance: this.instance }, data: { status: "stopped" } }).catch(() => undefined);
  }

  /**
   * The leader's verdict on a node whose heartbeat it has watched stand still for a whole lease:
   * guarded on the heartbeat it saw, so a node that beat meanwhile is not declared lost.
   * @returns true when this call marked it lost
   */
  async markLost(nodeId: string, instance: string, heartbeatAt: Date): Promise<boolean> {
    const { count } = await this.db.node.updateMany({ where: { id: nodeId, instance, heartbeatAt, status: { in: ["alive", "stopped"] } }, data: { status: "lost" } });
    return count > 0;
  }

  /** Every node, with `alive` by the database's clock. */
  async list(): Promise<NodeRecord[]> {
    const [{ dbNow }, rows] = await Promise.all([this.#clock(this.db), this.db.node.findMany({ orderBy: { id: "asc" } })]);
    return (rows as NodeRow[]).map((r) => toView(r, dbNow));
  }

  /** Raw rows for the leader's lease check. */
  async rows(): Promise<Array<NodeRow & { dbNow: number }>> {
    const [{ dbNow }, rows] = await Promise.all([this.#clock(this.db), this.db.node.findMany()]);
    return (rows as NodeRow[]).map((r) => ({ ...r, dbNow }));
  }

  /**
   * The database's clock and this node's offset from it (local minus database, in ms), measured
   * around one round trip (midpoint, as NTP's offset estimate; `rtt`: that round trip, ms). SQLite: the local clock.
   */
  async #clock(db: Db): Promise<{ dbNow: number; skew: number; rtt: number }> {
    if (databaseProvider(this.db) !== "postgresql") return { dbNow: this.clock(), skew: 0, rtt: 0 };
    const t0 = this.clock();
    const [row] = await db.$queryRaw<{ now: Date }[]>`SELECT (clock_timestamp() AT TIME ZONE 'UTC')::timestamp(3) AS "now"`;
    const t1 = this.clock();
    const dbNow = row!.now.getTime();
    return { dbNow, skew: (t0 + t1) / 2 - dbNow, rtt: t1 - t0 };
  }
}

function toView(r: NodeRow, dbNow: number): NodeRecord {
  const age = Math.max(0, dbNow - r.heartbeatAt.getTime());
  return {
    id: r.id, host: r.host, pid: r.pid, dataDir: r.dataDir, url: r.url, capacity: r.capacity, repos: list(r.repos), engines: list(r.engines),
    schemaVersion: r.schemaVersion, status: r.status as NodeRecord["status"], alive: r.status === "alive" && age < r.leaseMs, leaseMs: r.leaseMs,
    clockSkewMs: r.clockSkewMs, startedAt: r.startedAt.toISOString(), heartbeatAt: r.heartbeatAt.toISOString(), heartbeatAgeMs: age,
  };
}
