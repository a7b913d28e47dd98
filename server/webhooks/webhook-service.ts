/**
 * Per-repo webhooks: each lane event of a repo that a webhook wants (by default the ones that need
 * a person, lib/lane-attention.ts ALERT_EVENT_TYPES) becomes a WebhookDelivery row and is POSTed
 * as JSON — the event exactly as `GET /api/v1/events` serves it — to the webhook's URL.
 *
 * Delivery never blocks the lane: the bus handler only records the delivery and schedules it.
 * An attempt that gets no answer within {@link WebhookOptions.timeoutMs}, or a non-2xx answer, is
 * retried after `baseDelayMs · 2^(attempt-1)` (capped at `maxDelayMs`; exponential backoff as in
 * RFC 9110's Retry-After spirit, without jitter so tests are deterministic), at most
 * `maxAttempts` attempts in all, then marked `failed`. Pending deliveries survive a restart
 * (rescheduled at {@link WebhookService.start}). Each attempt's status code or error is kept and
 * shown with the webhook.
 */
import type { LaneEvent } from "@/lib/lane-events";
import { ALERT_EVENT_TYPES } from "@/lib/lane-attention";
import { AppError } from "@/lib/errors";
import { parseOrThrow } from "@/lib/validate";
import { WebhookCreateBodySchema, type WebhookDeliveryView, type WebhookView } from "@/lib/webhooks";
import type { EventBus } from "../events/event-bus";
import { eventFromRow, isRemoteEvent } from "../events/event-log";
import type { Db } from "../store/db";

export interface WebhookOptions {
  /** Per-attempt timeout, ms (default 5000). */
  timeoutMs: number;
  /** First retry delay, ms (default 1000). */
  baseDelayMs: number;
  /** Longest retry delay, ms (default 5 minutes). */
  maxDelayMs: number;
  /** Attempts in all before giving up (default 6). */
  maxAttempts: number;
}

export interface WebhookDeps {
  db: Db;
  bus: EventBus;
  /** The HTTP client (global fetch by default). */
  fetch?: typeof fetch;
  /** Several nodes share the database: deliver only this node's events, and re-read the webhook list now and then. */
  cluster?: boolean;
  options?: Partial<WebhookOptions>;
}

/** How old the webhook list may get before a node of a cluster reads it again, in ms. */
const HOOKS_REFRESH_MS = 5000;

const DEFAULTS: WebhookOptions = { timeoutMs: 5000, baseDelayMs: 1000, maxDelayMs: 5 * 60_000, maxAttempts: 6 };
const SHOWN_DELIVERIES = 20;

interface HookRow {
  id: string;
  repoId: string;
  url: string;
  events: string;
  createdAt: Date;
}

/** The retry delay before attempt `attempt + 1`, ms. */
export function backoffDelay(attempt: number, o: Pick<WebhookOptions, "baseDelayMs" | "maxDelayMs">): number {
  return Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

export class WebhookService {
  readonly #opts: WebhookOptions;
  /** repoId → its webhooks (with their wanted event types). */
  #hooks = new Map<string, { row: HookRow; wants: Set<string> }[]>();
  #timers = new Map<number, NodeJS.Timeout>();
  #events = new Map<number, LaneEvent>();
  #off: (() => void) | null = null;
  #stopped = false;
  /** Cluster: when the webhook list was last read, and the chain that keeps events in order behind a re-read. */
  #loadedAt = Date.now();
  #reload: Promise<void> = Promise.resolve();
  #inflight = new Set<Promise<void>>();

  constructor(private readonly deps: WebhookDeps) {
    this.#opts = { ...DEFAULTS, ...deps.options };
  }

  /** Load the webhooks, reschedule pending deliveries, and start listening to lane events. */
  async start(): Promise<void> {
    for (const row of await this.deps.db.webhook.findMany()) this.#remember(row);
    this.#off = this.deps.bus.on("lane.event", (e) => this.#onEvent(e));
    const pending = await this.deps.db.webhookDelivery.findMany({ where: { status: "pending" }, orderBy: { id: "asc" } });
    for (const d of pending) this.#schedule(d.id, d.nextAttemptAt ? d.nextAttemptAt.getTime() - Date.now() : 0);
  }

  /** Stop listening and cancel scheduled attempts (pending rows stay pending for the next start). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#off?.();
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#inflight]);
  }

  /** A repo's webhooks with their newest deliveries. @throws AppError not_found (repo). */
  async list(repoId: string): Promise<WebhookView[]> {
    await this.#repo(repoId);
    const rows = await this.deps.db.webhook.findMany({ where: { repoId }, orderBy: { createdAt: "asc" } });
    return Promise.all(rows.map((r) => this.#view(r)));
  }

  /**
   * Add a webhook to a repo (`{ url, events? }`, lib/webhooks.ts).
   * @throws AppError invalid_input (url not http(s), unknown event type), not_found (repo).
   */
  async create(repoId: string, body: unknown): Promise<WebhookView> {
    const { url, events } = parseOrThrow(WebhookCreateBodySchema, body);
    await this.#repo(repoId);
    const row = await this.deps.db.webhook.create({ data: { id: crypto.randomUUID(), repoId, url, events: JSON.stringify(events) } });
    this.#remember(row);
    return this.#view(row);
  }

  /** Remove a webhook and its deliveries. @throws AppError not_found. */
  async remove(repoId: string, webhookId: string): Promise<void> {
    const row = await this.deps.db.webhook.findFirst({ where: { id: webhookId, repoId } });
    if (!row) throw new AppError("not_found", `repo ${repoId} has no webhook ${webhookId}`);
    await this.deps.db.webhook.delete({ where: { id: webhookId } });
    this.#hooks.set(repoId, (this.#hooks.get(repoId) ?? []).filter((h) => h.row.id !== webhookId));
  }

  #remember(row: HookRow): void {
    const types = JSON.parse(row.events) as string[];
    const list = (this.#hooks.get(row.repoId) ?? []).filter((h) => h.row.id !== row.id);
    list.push({ row, wants: new Set(types.length ? types : ALERT_EVENT_TYPES) });
    this.#hooks.set(row.repoId, list);
  }

  async #repo(repoId: string): Promise<void> {
    if (!(await this.deps.db.repo.findUnique({ where: { id: repoId }, select: { id: true } }))) throw new AppError("not_found", `no repo with id ${repoId}`);
  }

  #onEvent(e: LaneEvent): void {
    // Several nodes on one database: each event is delivered by the node that appended it.
    if (this.#stopped || !e.repoId || isRemoteEvent(e)) return;
    if (!this.deps.cluster) return void this.#deliver(e);
    if (Date.now() - this.#loadedAt > HOOKS_REFRESH_MS) {
      // Webhooks added through another node: read the list again (in event order, on one chain).
      this.#loadedAt = Date.now();
      this.#reload = this.#reload.then(async () => {
        const rows = await this.deps.db.webhook.findMany();
        this.#hooks = new Map();
        for (const row of rows) this.#remember(row);
      }).catch(() => undefined);
    }
    this.#reload = this.#reload.then(() => this.#deliver(e));
  }

  #deliver(e: LaneEvent): Promise<void> {
    const hooks = this.#hooks.get(e.repoId!)?.filter((h) => h.wants.has(e.type));
    if (!hooks?.length) return Promise.resolve();
    return this.#track(
      (async () => {
        for (const h of hooks) {
          const d = await this.deps.db.webhookDelivery.create({ data: { webhookId: h.row.id, eventId: e.id, eventType: e.type, laneId: e.laneId, status: "pending" } });
          this.#events.set(d.id, e);
          this.#schedule(d.id, 0);
        }
      })(),
    );
  }

  #track(p: Promise<void>): Promise<void> {
    const tracked = p.catch((err) => console.warn("[webhooks]", err)).finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
    return tracked;
  }

  #schedule(deliveryId: number, delayMs: number): void {
    if (this.#stopped) return;
    const t = setTimeout(() => {
      this.#timers.delete(deliveryId);
      this.#track(this.#attempt(deliveryId));
    }, Math.max(0, delayMs));
    t.unref();
    this.#timers.set(deliveryId, t);
  }

  async #attempt(deliveryId: number): Promise<void> {
    const { db } = this.deps;
    const d = await db.webhookDelivery.findUnique({ where: { id: deliveryId }, include: { webhook: true } });
    if (!d || d.status !== "pending") return;
    const event = this.#events.get(deliveryId) ?? (await this.#loadEvent(d.eventId));
    const attempt = d.attempts + 1;
    let code: number | null = null;
    let error: string | null = null;
    try {
      const res = await (this.deps.fetch ?? fetch)(d.webhook.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "Laneboard-Webhook/1", "x-laneboard-event": d.eventType, "x-laneboard-delivery": String(d.id) },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(this.#opts.timeoutMs),
        redirect: "manual",
      });
      code = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).name === "TimeoutError" ? `no answer within ${this.#opts.timeoutMs} ms` : ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    }
    const now = new Date();
    if (!error) {
      this.#events.delete(deliveryId);
      await db.webhookDelivery.update({ where: { id: deliveryId }, data: { status: "delivered", attempts: attempt, lastStatusCode: code, lastError: null, deliveredAt: now, nextAttemptAt: null } });
      return;
    }
    const giveUp = attempt >= this.#opts.maxAttempts;
    const delay = backoffDelay(attempt, this.#opts);
    await db.webhookDelivery.update({
      where: { id: deliveryId },
      data: { status: giveUp ? "failed" : "pending", attempts: attempt, lastStatusCode: code, lastError: error.slice(0, 500), nextAttemptAt: giveUp ? null : new Date(now.getTime() + delay) },
    });
    if (giveUp) this.#events.delete(deliveryId);
    else this.#schedule(deliveryId, delay);
  }

  async #loadEvent(eventId: number): Promise<unknown> {
    const row = await this.deps.db.laneEvent.findUnique({ where: { id: eventId } });
    return row ? eventFromRow(row) : { id: eventId };
  }

  async #view(row: HookRow): Promise<WebhookView> {
    const ds = await this.deps.db.webhookDelivery.findMany({ where: { webhookId: row.id }, orderBy: { id: "desc" }, take: SHOWN_DELIVERIES });
    return {
      id: row.id,
      repoId: row.repoId,
      url: row.url,
      events: JSON.parse(row.events) as string[],
      createdAt: row.createdAt.toISOString(),
      deliveries: ds.map(
        (d): WebhookDeliveryView => ({
          id: d.id,
          eventId: d.eventId,
          eventType: d.eventType,
          laneId: d.laneId,
          status: d.status as WebhookDeliveryView["status"],
          attempts: d.attempts,
          nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
          lastStatusCode: d.lastStatusCode,
          lastError: d.lastError,
          createdAt: d.createdAt.toISOString(),
          deliveredAt: d.deliveredAt?.toISOString() ?? null,
        }),
      ),
    };
  }
}
