/**
 * Lane start jobs through pg-boss (a job queue in PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED`,
 * retries, expiry; docs/scale-out.md says why pg-boss). Each node works its own queue
 * ({@link startQueueName}); the leader's dispatcher inserts a job in the transaction that claims
 * the lane for that node, so a claimed lane always has its job and a job always has its claim.
 * A job is delivered again if the node dies while handling it (expiry): the handler is
 * idempotent (server/lanes/lane-runner.ts `runClaimed`).
 *
 * pg-boss polls a queue at most every 0.5 s; to start a lane at once the dispatcher also NOTIFYs
 * {@link DISPATCH_CHANNEL} with the node id, and that node wakes its worker
 * (`notifyWorker`, pg-boss's own way to skip the polling interval).
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import PgBoss from "pg-boss";
import { MIGRATE_LOCK } from "../store/migrate-postgres";
import { connectClient } from "../store/postgres";
import type { ClusterListener } from "./listener";

/** Advisory lock key (migrations' namespace, key 3) under which nodes create pg-boss queues. */
const QUEUE_LOCK = [MIGRATE_LOCK[0], 3];

/** NOTIFY channel: a start job was sent to the node named in the payload. */
export const DISPATCH_CHANNEL = "laneboard_dispatch";

/** A lane start job. */
export interface StartJob {
  laneId: string;
  /** The attempt the claim started (a stale job for an older attempt is ignored). */
  attempt: number;
}

/** pg-boss queue of a node's start jobs (names must be short and plain; node ids need not be). */
export function startQueueName(nodeId: string): string {
  return `lane-start-${createHash("sha256").update(nodeId).digest("hex").slice(0, 20)}`;
}

export class LaneStartQueue {
  readonly #boss: PgBoss;
  #workerId: string | null = null;
  readonly #queues = new Set<string>();

  constructor(private readonly opts: { url: string; nodeId: string; listener: ClusterListener }) {
    // supervise: pg-boss's maintenance (expiry, archiving) runs on every node under its own lock.
    this.#boss = new PgBoss({ connectionString: opts.url, max: 3, application_name: "laneboard-queue", schedule: false, supervise: true });
    this.#boss.on("error", (err) => console.warn(`[cluster] job queue: ${err.message}`));
  }

  /** Start pg-boss (installing its schema on first use) and make sure this node's queue exists. */
  async start(): Promise<void> {
    await this.#boss.start();
    await this.ensureQueue(this.opts.nodeId);
  }

  /** Create `nodeId`'s queue if it does not exist yet. */
  async ensureQueue(nodeId: string): Promise<string> {
    const name = startQueueName(nodeId);
    if (this.#queues.has(name)) return name;
    if (!(await this.#boss.getQueue(name))) {
      // One node at a time: pg-boss creates a queue's partition tables, and nodes booting together
      // deadlocked in PostgreSQL's catalog (one of three nodes failed its start with "deadlock detected").
      const client = await connectClient(this.opts.url, { applicationName: "laneboard-queue-setup" });
      try {
        await client.query("SELECT pg_advisory_lock($1, $2)", QUEUE_LOCK);
        if (!(await this.#boss.getQueue(name))) await this.#boss.createQueue(name, { name, policy: "standard", retryLimit: 3, retryDelay: 1, expireInSeconds: 300 });
      } finally {
        await client.end().catch(() => undefined); // ending the session releases the lock
      }
    }
    this.#queues.add(name);
    return name;
  }

  /**
   * Work this node's queue: `handle` runs once per job (again after a crash mid-handling).
   * A job whose handler throws is retried (pg-boss `retryLimit`).
   */
  async work(handle: (job: StartJob) => Promise<void>): Promise<void> {
    const name = startQueueName(this.opts.nodeId);
    this.#workerId = await this.#boss.work<StartJob>(name, { batchSize: 4, pollingIntervalSeconds: 2 }, async (jobs) => {
      for (const job of jobs) await handle(job.data);
    });
    this.opts.listener.on(DISPATCH_CHANNEL, (payload) => {
      if ((payload === null || payload === this.opts.nodeId) && this.#workerId) this.#boss.notifyWorker(this.#workerId);
    });
  }

  /**
   * Insert a start job for `nodeId` on `client`, inside the caller's transaction, and announce it
   * (the NOTIFY is delivered at commit).
   */
  async sendWithin(client: pg.ClientBase, nodeId: string, job: StartJob): Promise<void> {
    const name = await this.ensureQueue(nodeId);
    const db = { executeSql: (text: string, values: unknown[]) => client.query(text, values) };
    await this.#boss.send(name, job, { db, singletonKey: `${job.laneId}:${job.attempt}`, retryLimit: 3, expireInSeconds: 300 });
    await client.query("SELECT pg_notify($1, $2)", [DISPATCH_CHANNEL, nodeId]);
  }

  /** Drop every waiting job of a node (it was lost; its lanes are settled by the leader). */
  async purge(nodeId: string): Promise<void> {
    const name = startQueueName(nodeId);
    if (await this.#boss.getQueue(name)) await this.#boss.purgeQueue(name);
  }

  /** Stop working and close pg-boss's pool. Never throws. */
  async stop(): Promise<void> {
    await this.#boss.stop({ graceful: true, wait: true, timeout: 5000 }).catch(() => undefined);
  }
}
