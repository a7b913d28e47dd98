/**
 * Which node is the cluster's scheduler: the one holding a PostgreSQL session advisory lock
 * ({@link LEADER_LOCK}) on a connection of its own. PostgreSQL releases the lock the moment that
 * session ends (the node dies, the network cuts it, the server restarts), so at most one node
 * leads at any time and another takes over at its next try. The connection's
 * `application_name` carries the leader's instance id, so any node can ask who leads
 * (pg_locks joined with pg_stat_activity: what the server knows, not a row that could be stale).
 *
 * A leader that loses its connection is deposed at once ({@link LeaderElectionEvents.deposed}):
 * the lock may already be someone else's.
 */
import type pg from "pg";
import type { Db } from "../store/db";
import { connectClient } from "../store/postgres";

/** Advisory lock key pair (classid, objid) of the scheduler leader: "LBLD", 1. */
export const LEADER_LOCK = [0x4c424c44, 1] as const;
const APP_PREFIX = "laneboard-leader ";

export interface LeaderElectionEvents {
  /** This node now leads (call once per term). */
  elected(): void;
  /** This node no longer leads (its session ended). */
  deposed(reason: string): void;
}

export class LeaderElection {
  #client: pg.Client | null = null;
  #leader = false;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #trying = false;

  constructor(
    private readonly deps: { url: string; instance: string; intervalMs: number; events: LeaderElectionEvents },
  ) {}

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Try now, then every `intervalMs` while not leading. */
  start(): void {
    void this.#try();
    this.#timer = setInterval(() => void this.#try(), this.deps.intervalMs);
    this.#timer.unref();
  }

  /** Give up leadership (closing the session releases the lock) and stop trying. Never throws. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    const client = this.#client;
    this.#client = null;
    if (this.#leader) this.#depose("stopping");
    await client?.end().catch(() => undefined);
  }

  async #try(): Promise<void> {
    if (this.#stopped || this.#leader || this.#trying) return;
    this.#trying = true;
    try {
      if (!this.#client) {
        const client = await connectClient(this.deps.url, { applicationName: `${APP_PREFIX}${this.deps.instance}` });
        client.on("end", () => {
          if (this.#client === client) this.#client = null;
          if (this.#leader) this.#depose("the leader's database session ended");
        });
        if (this.#stopped) return void (await client.end().catch(() => undefined));
        this.#client = client;
      }
      const { rows } = await this.#client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS ok", [...LEADER_LOCK]);
      if (rows[0]?.ok && !this.#stopped) {
        this.#leader = true;
        this.deps.events.elected();
      }
    } catch {
      // Unreachable database: try again at the next interval (the client, if broken, is dropped).
      const client = this.#client;
      this.#client = null;
      await client?.end().catch(() => undefined);
    } finally {
      this.#trying = false;
    }
  }

  #depose(reason: string): void {
    this.#leader = false;
    this.deps.events.deposed(reason);
  }
}

/**
 * The instance id of the node holding the leader lock, or null when nobody leads right now.
 * @throws what the database throws
 */
export async function leaderInstance(db: Db): Promise<string | null> {
  const rows = await db.$queryRaw<{ app: string }[]>`
    SELECT a.application_name AS app FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${LEADER_LOCK[0]}::oid AND l.objid = ${LEADER_LOCK[1]}::oid AND l.objsubid = 2`;
  const app = rows[0]?.app;
  return app?.startsWith(APP_PREFIX) ? app.slice(APP_PREFIX.length) : null;
}
