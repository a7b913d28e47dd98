/**
 * Lane summaries for the API and the board, kept current from the event bus: the first request
 * for a lane folds its stored events (./summarize-lane.ts), and every later event of that lane is
 * folded in as it is published, so a board of many lanes costs no query per lane after the first.
 *
 * Events published while a lane's history is being read are buffered and folded afterwards
 * (the fold ignores ids it has already seen), so none is missed or counted twice.
 * Memory: one small state per lane that has been asked for.
 */
import { AppError } from "@/lib/errors";
import type { LaneEvent } from "@/lib/lane-events";
import type { LaneSummary } from "@/lib/lane-summary";
import type { EventBus } from "../events/event-bus";
import { eventFromRow } from "../events/event-log";
import { chunks } from "../store/batch";
import type { Db } from "../store/db";
import { initialSummary, reduceSummary, renderSummary, type SummaryState } from "./summarize-lane";

export interface LaneSummaryDeps {
  db: Db;
  bus: EventBus;
}

/** Event types that never change a summary and can be many; not read back. */
const IGNORED = ["worker.usage", "process.output_truncated", "process.started", "process.exited", "process.reattached", "warning"];
const PAGE = 2000;

export class LaneSummaryService {
  #version = 0;
  /** Bumped whenever a lane's summary state changes: equal versions, equal {@link getMany} answers for lanes it had. */
  get version(): number {
    return this.#version;
  }

  readonly #states = new Map<string, SummaryState>();
  readonly #building = new Map<string, { pending: LaneEvent[]; done: Promise<SummaryState> }>();
  readonly #rendered = new WeakMap<SummaryState, LaneSummary>();
  readonly #off: () => void;

  constructor(private readonly deps: LaneSummaryDeps) {
    this.#off = deps.bus.on("lane.event", this.#onEvent);
  }

  /** Stop following the bus (shutdown). */
  close(): void {
    this.#off();
  }

  /**
   * The lane's summary.
   * @throws AppError not_found for an unknown lane
   */
  async get(laneId: string): Promise<LaneSummary> {
    return this.#render(await this.#state(laneId));
  }

  /**
   * Summaries of many lanes (unknown ids are left out). Cached lanes are answered without waiting;
   * lanes not cached yet are folded from one paged query per chunk of lanes (../store/batch.ts),
   * not one query per lane. While a lane's events do not change, its summary is the same object,
   * so a caller can tell "unchanged" by identity.
   */
  async getMany(laneIds: readonly string[]): Promise<Map<string, LaneSummary>> {
    const out = new Map<string, LaneSummary>();
    const missing: string[] = [];
    for (const id of laneIds) {
      const state = this.#states.get(id);
      if (state) out.set(id, this.#render(state));
      else missing.push(id);
    }
    if (missing.length === 0) return out;
    const cold = missing.filter((id) => !this.#building.has(id));
    if (cold.length > 0) this.#startBatch(cold);
    await Promise.all(
      missing.map(async (id) => {
        const s = await this.#state(id).catch(() => null);
        if (s) out.set(id, this.#render(s));
      }),
    );
    return out;
  }

  /** A state's summary, rendered once per state (states are replaced, never changed, by each event). */
  #render(state: SummaryState): LaneSummary {
    let summary = this.#rendered.get(state);
    if (!summary) this.#rendered.set(state, (summary = renderSummary(state)));
    return summary;
  }

  /** Register one shared fold of `laneIds`' stored events as their in-flight builds. */
  #startBatch(laneIds: string[]): void {
    const folded = this.#foldMany(laneIds);
    for (const id of laneIds) {
      const entry = { pending: [] as LaneEvent[], done: folded.then((m) => m.get(id) ?? initialSummary(id)) };
      this.#building.set(id, entry);
      void this.#settle(id, entry).catch(() => undefined);
    }
  }

  async #foldMany(laneIds: string[]): Promise<Map<string, SummaryState>> {
    const states = new Map(laneIds.map((id) => [id, initialSummary(id)]));
    for (const chunk of chunks(laneIds)) {
      for (let after = 0; ; ) {
        const rows = await this.deps.db.laneEvent.findMany({ where: { laneId: { in: chunk }, id: { gt: after }, type: { notIn: IGNORED } }, orderBy: { id: "asc" }, take: PAGE });
        for (const row of rows) {
          const event = parseRow(row);
          if (event?.laneId) states.set(event.laneId, reduceSummary(states.get(event.laneId)!, event));
        }
        if (rows.length < PAGE) break;
        after = rows[rows.length - 1]!.id;
      }
    }
    return states;
  }

  /** Wait for a build, fold what was published meanwhile, cache the state. */
  async #settle(laneId: string, entry: { pending: LaneEvent[]; done: Promise<SummaryState> }): Promise<SummaryState> {
    try {
      let state = await entry.done;
      for (const e of entry.pending) state = reduceSummary(state, e);
      this.#states.set(laneId, state);
      this.#version++;
      return state;
    } finally {
      if (this.#building.get(laneId) === entry) this.#building.delete(laneId);
    }
  }

  #onEvent = (event: LaneEvent): void => {
    if (!event.laneId) return;
    const building = this.#building.get(event.laneId);
    if (building) building.pending.push(event);
    const state = this.#states.get(event.laneId);
    if (state) {
      this.#states.set(event.laneId, reduceSummary(state, event));
      this.#version++;
    }
  };

  async #state(laneId: string): Promise<SummaryState> {
    const cached = this.#states.get(laneId);
    if (cached) return cached;
    const inflight = this.#building.get(laneId);
    if (inflight) return inflight.done;
    const entry = { pending: [] as LaneEvent[], done: this.#build(laneId) };
    this.#building.set(laneId, entry);
    return this.#settle(laneId, entry);
  }

  async #build(laneId: string): Promise<SummaryState> {
    const lane = await this.deps.db.lane.findUnique({ where: { id: laneId }, select: { id: true } });
    if (!lane) throw new AppError("not_found", `no lane with id ${laneId}`);
    let state = initialSummary(laneId);
    for (let after = 0; ; ) {
      const rows = await this.deps.db.laneEvent.findMany({
        where: { laneId, id: { gt: after }, type: { notIn: IGNORED } },
        orderBy: { id: "asc" },
        take: PAGE,
      });
      for (const row of rows) {
        const event = parseRow(row);
        if (event) state = reduceSummary(state, event);
      }
      if (rows.length < PAGE) return state;
      after = rows[rows.length - 1]!.id;
    }
  }
}

/** A stored row as a typed event; null for a row that no longer parses (skipped, not fatal). */
function parseRow(row: { id: number; laneId: string | null; repoId: string | null; type: string; version: number; payload: string; at: Date }): LaneEvent | null {
  try {
    return eventFromRow(row);
  } catch {
    return null;
  }
}
