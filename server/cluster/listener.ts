/**
 * One LISTEN connection per node for every PostgreSQL channel the cluster uses (other nodes'
 * events, lane start jobs). Notifications only wake things up: whatever they announce is read from
 * tables, so notifications missed while the connection was down cost nothing; after a reconnect
 * every channel's handler is called once with a null payload to catch up.
 */
import type pg from "pg";
import { connectClient } from "../store/postgres";

type Handler = (payload: string | null) => void;

export class ClusterListener {
  #client: pg.Client | null = null;
  readonly #handlers = new Map<string, Set<Handler>>();
  #stopped = false;
  #reconnect: NodeJS.Timeout | null = null;

  constructor(private readonly opts: { url: string; reconnectMs?: number }) {}

  /** Call `fn` with each notification's payload on `channel` (and with null after each reconnect). */
  on(channel: string, fn: Handler): void {
    let set = this.#handlers.get(channel);
    if (!set) {
      this.#handlers.set(channel, (set = new Set()));
      void this.#client?.query(`LISTEN "${channel}"`).catch(() => undefined);
    }
    set.add(fn);
  }

  /** Connect (a failure is retried in the background). */
  async start(): Promise<void> {
    await this.#connect();
  }

  get connected(): boolean {
    return this.#client !== null;
  }

  /** Stop listening. Never throws. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#reconnect) clearTimeout(this.#reconnect);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    try {
      const client = await connectClient(this.opts.url, { applicationName: "laneboard-listen" });
      client.on("notification", (n) => this.#deliver(n.channel, n.payload ?? null));
      client.on("end", () => {
        if (this.#client !== client) return;
        this.#client = null;
        this.#scheduleReconnect();
      });
      for (const channel of this.#handlers.keys()) await client.query(`LISTEN "${channel}"`);
      if (this.#stopped) return void (await client.end().catch(() => undefined));
      this.#client = client;
      for (const channel of this.#handlers.keys()) this.#deliver(channel, null);
    } catch (err) {
      console.warn(`[cluster] LISTEN connection failed (retrying): ${(err as Error).message}`);
      this.#scheduleReconnect();
    }
  }

  #deliver(channel: string, payload: string | null): void {
    for (const fn of this.#handlers.get(channel) ?? []) {
      try {
        fn(payload);
      } catch (err) {
        console.error(`[cluster] handler for ${channel} threw`, err);
      }
    }
  }

  #scheduleReconnect(): void {
    if (this.#stopped) return;
    this.#reconnect = setTimeout(() => void this.#connect(), this.opts.reconnectMs ?? 1000);
    this.#reconnect.unref();
  }
}
