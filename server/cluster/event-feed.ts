/**
 * Other nodes' lane events onto this node's bus: on every append the database NOTIFYs
 * (server/store/sql/postgresql.ts), and the event log then publishes what it has not published
 * yet ({@link EventLog.pullRemote}, in id order). The rows are read from the table, so a
 * notification lost while the listener was down costs nothing; the feed also pulls after every
 * reconnect and every `safetyPullMs`.
 */
import type { EventLog } from "../events/event-log";
import { EVENT_CHANNEL } from "../store/sql/postgresql";
import type { ClusterListener } from "./listener";

export class ClusterEventFeed {
  #pulling: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: { events: EventLog; listener: ClusterListener; safetyPullMs?: number }) {
    opts.listener.on(EVENT_CHANNEL, () => this.pull());
  }

  /** Pull now and every `safetyPullMs` (default 5000). */
  start(): void {
    this.#timer = setInterval(() => this.pull(), this.opts.safetyPullMs ?? 5000);
    this.#timer.unref();
    this.pull();
  }

  /** Publish whatever other nodes appended (coalesced: one pull at a time, one more if asked meanwhile). */
  pull(): void {
    if (this.#stopped) return;
    if (this.#pulling) {
      this.#again = true;
      return;
    }
    this.#pulling = (async () => {
      do {
        this.#again = false;
        await this.opts.events.pullRemote().catch((err: unknown) => console.warn(`[cluster] reading other nodes' events failed (retrying): ${(err as Error).message}`));
      } while (this.#again && !this.#stopped);
    })().finally(() => (this.#pulling = null));
  }

  /** Stop pulling; waits for a pull in flight. Never throws. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#pulling;
  }
}
