/**
 * The lane read model: the one place that builds {@link LaneView}s (lib/api.ts), for the board,
 * the lane list and every verb that answers with a lane. It is maintained incrementally, so a
 * board of thousands of lanes is answered from memory with work in proportion to what changed:
 *
 * - the part of each view that comes from rows (./lane-view-rows.ts) is kept per lane and re-read
 *   only for lanes that changed. What changed is told by the lane event log: every write that
 *   changes a lane's view is followed by an event of that lane (a state change, a check, a worker
 *   transition, a freshness count, …), so each read asks which lanes have events past the newest
 *   id it has applied (one range query on the event ids, `LaneEvent`'s primary key). Rows written
 *   by another connection (a bulk import) are seen the same way, as long as their events are
 *   written after them. The one write with no event after it (a worker's usage report held back
 *   by the activity throttle) is announced on the bus as `lane.touched`;
 * - the part that moves without a write (queue position and wait reason, usage from the
 *   scheduler's ledger, `baseMoved` from the freshness tracker, the summary folded from the bus)
 *   is read from those in-memory services each time a view is composed;
 * - each lane's JSON text is kept with the values it was made from and reused while none of them
 *   changed, encoded as UTF-8 once, so the board's body ({@link LaneViews.listBody}) is a join of
 *   cached bytes, and the very same buffer while no lane changed (so the HTTP layer can keep its
 *   ETag and compressed form by identity).
 *
 * After a restart the first read (or {@link LaneViews.warm} at boot) loads every lane once.
 * Reads are consistent with the database at the moment they start: a read after a write and its
 * event sees it (syncs are serialized; a read joins a sync only if that sync has not started yet).
 * Event ids become visible in id order, so a range past the last applied id misses none: the
 * event log appends one event at a time (each committed before the next is written), and SQLite
 * has one writer at a time besides. This is change data capture with the event log as the change
 * stream (Kleppmann, "Designing Data-Intensive Applications", ch. 11).
 */
import type { LaneView } from "@/lib/api";
import { AppError } from "@/lib/errors";
import type { LaneSummary } from "@/lib/lane-summary";
import type { EventBus } from "../events/event-bus";
import type { FreshnessTracker } from "../freshness/freshness";
import type { SchedulerApi } from "../scheduler/scheduler-api";
import type { Where } from "../scheduler/scheduler-views";
import type { Page } from "@/lib/paging";
import { decodeCursor, encodeCursor } from "../store/keyset";
import type { Db } from "../store/db";
import type { LaneSummaryService } from "../workers/lane-summary";
import { readAllLaneRows, readLaneBases, readLaneRows, type LaneBase } from "./lane-view-rows";

export interface LaneViewsDeps {
  db: Db;
  scheduler: Pick<SchedulerApi, "whereMany" | "laneSchedule" | "laneUsage" | "usageVersion">;
  summaries: Pick<LaneSummaryService, "getMany" | "version">;
  freshness: Pick<FreshnessTracker, "peek" | "version">;
  bus: Pick<EventBus, "on">;
  /** Whether a worker has an interactive session attached (the worker service's). */
  sessions: { hasSession(workerId: string): boolean };
}

/** The values a lane's cached JSON was made from, besides its base (compared by identity). */
interface JsonMemo {
  base: LaneBase;
  tokens: number;
  costUsd: number;
  summary: LaneSummary | undefined;
  baseMoved: boolean | null;
  /** The view's JSON text as UTF-8. */
  bytes: Buffer;
}

const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("]");

export class LaneViews {
  /** laneId → its row-derived view part; complete once {@link #loaded}. */
  readonly #bases = new Map<string, LaneBase>();
  readonly #json = new Map<string, JsonMemo>();
  /** The last unfiltered list body and the per-lane buffers it joined (reused while all are the same). */
  /** The last whole list: its parts, its bytes, and the stamp it was made at (null: it held a queued lane). */
  #list: { parts: Buffer[]; body: Buffer; stamp: string | null } | null = null;
  /** Bumped whenever a lane's base changes (a sync that read rows). */
  #changes = 0;
  /** Lane ids oldest first (createdAt, then id); null when it must be sorted again. */
  #order: string[] | null = null;
  /** The newest `LaneEvent.id` whose lane is reflected in {@link #bases}. */
  #applied = 0;
  /** Lanes announced by `lane.touched` since the last sync. */
  #touched = new Set<string>();
  readonly #off: () => void;
  #loaded = false;
  /** The sync chain, and a sync queued on it that has not started yet (later readers join it). */
  #tail: Promise<void> = Promise.resolve();
  #next: Promise<void> | null = null;

  constructor(private readonly deps: LaneViewsDeps) {
    this.#off = deps.bus.on("lane.touched", ({ laneId }) => void this.#touched.add(laneId));
  }

  /** Stop following the bus (the runtime's quit; a read model made for one comparison). */
  stop(): void {
    this.#off();
  }

  /** Load every lane and its summary now (at boot, so the first board read is not the one that pays). */
  async warm(): Promise<void> {
    await this.#sync();
    await this.deps.summaries.getMany([...this.#bases.keys()]);
  }

  /** One lane's view. @throws AppError not_found */
  async get(laneId: string): Promise<LaneView> {
    if (!this.#loaded) {
      // Before the first load is done, one lane is cheaper read on its own than waiting for all.
      const [row] = await readLaneRows(this.deps.db, [laneId]);
      if (!row) throw new AppError("not_found", `no lane with id ${laneId}`);
      const bases = await readLaneBases(this.deps, [row]);
      return (await this.#compose([bases.get(laneId)!]))[0]!;
    }
    await this.#sync();
    const base = this.#bases.get(laneId);
    if (!base) throw new AppError("not_found", `no lane with id ${laneId}`);
    return (await this.#compose([base]))[0]!;
  }

  /** Every lane's view (of one repo, if given), oldest first. */
  async list(opts: { repoId?: string } = {}): Promise<LaneView[]> {
    return this.#compose(await this.#current(opts.repoId));
  }

  /**
   * One page of views in creation order, after `cursor` (keyset pagination, server/store/keyset.ts),
   * from the same cached lanes as {@link list}; `ids`: only those lanes (unknown ones left out).
   * @throws AppError invalid_input (field `cursor`) for a cursor this API did not give
   */
  async page(opts: { repoId?: string; ids?: readonly string[]; limit: number; cursor?: string }): Promise<Page<LaneView>> {
    const only = opts.ids ? new Set(opts.ids) : null;
    const bases = (await this.#current(opts.repoId)).filter((b) => !only || only.has(b.row.id));
    const after = opts.cursor ? decodeCursor(opts.cursor) : null;
    const at = after ? bases.findIndex(({ row }) => row.createdAt.getTime() > after.createdAt.getTime() || (row.createdAt.getTime() === after.createdAt.getTime() && row.id > after.id)) : 0;
    const rest = at < 0 ? [] : bases.slice(at, at + opts.limit + 1);
    const kept = rest.slice(0, opts.limit);
    return { items: await this.#compose(kept), next: rest.length > opts.limit ? encodeCursor(kept[kept.length - 1]!.row) : null };
  }

  /**
   * The JSON text of {@link list}'s answer (the same text `JSON.stringify` gives) as UTF-8, joined
   * from per-lane cached bytes; `repoIds` (null: all) narrows it to those repos' lanes. While no
   * lane's view changed, the unnarrowed answer is the same Buffer object as last time.
   */
  async listBody(opts: { repoIds?: ReadonlySet<string> | null } = {}): Promise<Buffer> {
    let bases = await this.#current();
    const only = opts.repoIds;
    // Nothing any lane's JSON is made of has changed since the last whole list, and no lane is
    // queued (a queued lane's place moves with the others): the same bytes, without a walk over
    // every lane to find that out (at 5,000 lanes the walk cost ~9 ms per request).
    const stamp = `${this.#changes}|${this.deps.summaries.version}|${this.deps.freshness.version}|${this.deps.scheduler.usageVersion()}`;
    if (!only && this.#list?.stamp === stamp) return this.#list.body;
    if (only) bases = bases.filter((b) => only.has(b.row.repoId));
    const [summaries, waits] = await Promise.all([this.deps.summaries.getMany(bases.map((b) => b.row.id)), this.#waits(bases)]);
    const parts = bases.map((base) => this.#bytesOf(base, summaries.get(base.row.id), waits));
    const prev = this.#list;
    const queued = bases.some((b) => b.row.state === "queued");
    if (!only && prev && prev.parts.length === parts.length && parts.every((p, i) => p === prev.parts[i])) {
      prev.stamp = queued ? null : stamp;
      return prev.body;
    }
    const chunks: Buffer[] = [OPEN];
    parts.forEach((p, i) => chunks.push(...(i ? [COMMA, p] : [p])));
    chunks.push(CLOSE);
    const body = Buffer.concat(chunks);
    if (!only) this.#list = { parts, body, stamp: queued ? null : stamp };
    return body;
  }

  /** The cached bases of every lane (of one repo), oldest first, after catching up with the database. */
  async #current(repoId?: string): Promise<LaneBase[]> {
    await this.#sync();
    this.#order ??= [...this.#bases.values()]
      .sort((a, b) => a.row.createdAt.getTime() - b.row.createdAt.getTime() || (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0))
      .map((b) => b.row.id);
    const out: LaneBase[] = [];
    for (const id of this.#order) {
      const base = this.#bases.get(id)!;
      if (!repoId || base.row.repoId === repoId) out.push(base);
    }
    return out;
  }

  /** Catch up with the database: queue one sync behind the running one, or join a queued one. */
  #sync(): Promise<void> {
    if (this.#next) return this.#next;
    const next = this.#tail.then(() => {
      this.#next = null;
      return this.#loaded ? this.#applyChanges() : this.#loadAll();
    });
    this.#next = next;
    this.#tail = next.catch(() => undefined);
    return next;
  }

  async #loadAll(): Promise<void> {
    const { db } = this.deps;
    // The cursor first: an event landing while the rows are read is applied again by the next sync.
    const last = await db.laneEvent.findFirst({ orderBy: { id: "desc" }, select: { id: true } });
    this.#touched.clear();
    const bases = await readLaneBases(this.deps, await readAllLaneRows(db));
    this.#bases.clear();
    for (const [id, base] of bases) this.#bases.set(id, base);
    this.#json.clear();
    this.#order = null;
    this.#changes++;
    this.#applied = last?.id ?? 0;
    this.#loaded = true;
  }

  /** Re-read the lanes with events past {@link #applied} and those touched: one grouped range query, then one batch. */
  async #applyChanges(): Promise<void> {
    const { db } = this.deps;
    const touched = this.#touched;
    this.#touched = new Set();
    // Events without a lane (repo events) form the null group: they advance the cursor only.
    const groups = await db.laneEvent.groupBy({ by: ["laneId"], where: { id: { gt: this.#applied } }, _max: { id: true } }).catch((err: unknown) => {
      for (const id of touched) this.#touched.add(id);
      throw err;
    });
    let applied = this.#applied;
    const ids = new Set(touched);
    for (const g of groups) {
      applied = Math.max(applied, g._max.id ?? 0);
      if (g.laneId) ids.add(g.laneId);
    }
    if (ids.size > 0) {
      this.#changes++;
      const bases = await readLaneBases(this.deps, await readLaneRows(db, [...ids]));
      for (const id of ids) {
        const base = bases.get(id);
        if (base) {
          if (!this.#bases.has(id)) this.#order = null;
          this.#bases.set(id, base);
        } else if (this.#bases.delete(id)) {
          this.#json.delete(id);
          this.#order = null;
        }
      }
    }
    this.#applied = applied;
  }

  async #compose(bases: LaneBase[]): Promise<LaneView[]> {
    const [summaries, waits] = await Promise.all([this.deps.summaries.getMany(bases.map((b) => b.row.id)), this.#waits(bases)]);
    return bases.map((base) => this.#view(base, summaries.get(base.row.id), waits));
  }

  /** Where the queued ones of `bases` stand (on a node that does not lead the cluster, asked of the leader). */
  #waits(bases: readonly LaneBase[]): Promise<Map<string, Where>> {
    return this.deps.scheduler.whereMany(bases.filter((b) => b.row.state === "queued").map((b) => b.row.id));
  }

  #view(base: LaneBase, summary: LaneSummary | undefined, waits: ReadonlyMap<string, Where>): LaneView {
    const { scheduler, freshness } = this.deps;
    const id = base.row.id;
    const where = waits.get(id) ?? null;
    return {
      ...base.head,
      queuePosition: where?.position ?? null,
      ...base.times,
      waitingFor: where?.waitingFor ?? null,
      schedule: { ...base.schedule, used: scheduler.laneUsage(base.row) },
      ...base.flags,
      baseMoved: freshness.peek(id)?.baseMoved ?? null,
      worker: base.worker,
      ...(summary ? { summary } : {}),
    };
  }

  /** The lane's view as UTF-8 JSON, reused while its base and the moving values it was made from stay the same. */
  #bytesOf(base: LaneBase, summary: LaneSummary | undefined, waits: ReadonlyMap<string, Where>): Buffer {
    const id = base.row.id;
    const memo = this.#json.get(id);
    // A queued lane's place and wait reason move with every other lane: never reused.
    if (base.row.state !== "queued") {
      const used = this.deps.scheduler.laneUsage(base.row);
      const baseMoved = this.deps.freshness.peek(id)?.baseMoved ?? null;
      if (memo && memo.base === base && memo.summary === summary && memo.baseMoved === baseMoved && memo.tokens === used.tokens && memo.costUsd === used.costUsd) return memo.bytes;
      const bytes = Buffer.from(JSON.stringify(this.#view(base, summary, waits)));
      this.#json.set(id, { base, summary, baseMoved, tokens: used.tokens, costUsd: used.costUsd, bytes });
      return bytes;
    }
    return Buffer.from(JSON.stringify(this.#view(base, summary, waits)));
  }
}
