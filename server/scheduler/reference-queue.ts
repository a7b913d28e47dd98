/**
 * The naive reference for {@link DispatchQueue}: the same rules (pools, caps, engine gates,
 * Start-time Fair Queueing tags, priority → deadline → age) implemented as a full scan that sorts
 * every dispatchable item on each decision — O(n log n) per decision. It exists to check the fast
 * queue (tests run both on random workloads and compare every choice) and as the benchmark's
 * baseline. Not for production use. Lane-level gates are not modelled.
 */
import { compareHeads } from "./order";
import { POOLS, type Pool } from "./schemas";
import type { CapacityView, QueueItem } from "./types";
import { mulberry32 } from "@/lib/seeded-random";

type Input = Omit<QueueItem, "seq" | "engine"> & { seq?: number; engine?: string | null };

export class NaiveQueue {
  #items = new Map<string, { item: QueueItem; parked: boolean }>();
  #tags: Record<Pool, Map<string, number>> = { agent: new Map(), check: new Map(), background: new Map() };
  #vtime: Record<Pool, number> = { agent: 0, check: 0, background: 0 };
  #nextSeq = 0;
  /** Unparked items per `pool|repo`: a count, so the join rule needs no scan. */
  #active = new Map<string, number>();

  get size(): number {
    return this.#items.size;
  }

  enqueue(input: Input, parked = false): QueueItem {
    const item: QueueItem = { ...input, seq: input.seq ?? this.#nextSeq, engine: input.engine ?? null };
    this.#nextSeq = Math.max(this.#nextSeq, item.seq + 1);
    if (!parked) this.#activate(item);
    this.#items.set(item.laneId, { item, parked });
    return item;
  }

  remove(laneId: string): void {
    const e = this.#items.get(laneId);
    if (e && !e.parked) this.#count(e.item, -1);
    this.#items.delete(laneId);
  }

  park(laneId: string): void {
    const e = this.#items.get(laneId);
    if (!e || e.parked) return;
    this.#count(e.item, -1);
    e.parked = true;
  }

  release(laneId: string): void {
    const e = this.#items.get(laneId);
    if (!e?.parked) return;
    this.#activate(e.item);
    e.parked = false;
  }

  next(view: CapacityView, now: number): QueueItem | null {
    for (const pool of POOLS) {
      if (view.globalFree(pool) <= 0) continue;
      const tags = this.#tags[pool];
      const candidates: QueueItem[] = [];
      for (const { item, parked } of this.#items.values()) {
        if (parked || item.pool !== pool) continue;
        const retryAt = item.engine === null ? null : view.engineRetryAt?.(item.engine, now);
        if (retryAt != null && retryAt > now) continue;
        candidates.push(item);
      }
      candidates.sort((a, b) => compareHeads(tags.get(a.repoId) ?? 0, a, tags.get(b.repoId) ?? 0, b));
      for (const c of candidates) {
        if (view.repoFree(pool, c.repoId) <= 0 || view.repoBlock?.(c.repoId, now)) continue;
        const start = Math.max(tags.get(c.repoId) ?? 0, this.#vtime[pool]);
        this.#vtime[pool] = start;
        tags.set(c.repoId, start + 1);
        this.remove(c.laneId);
        return c;
      }
    }
    return null;
  }

  /** SFQ join rule: a repo with nothing dispatchable in the pool joins at the current virtual time. */
  #activate(item: QueueItem): void {
    if (this.#count(item, +1) === 1) {
      const tags = this.#tags[item.pool];
      tags.set(item.repoId, Math.max(tags.get(item.repoId) ?? this.#vtime[item.pool], this.#vtime[item.pool]));
    }
  }

  #count(item: QueueItem, delta: number): number {
    const key = `${item.pool}|${item.repoId}`;
    const n = (this.#active.get(key) ?? 0) + delta;
    this.#active.set(key, n);
    return n;
  }
}

/** Seeded PRNG for tests and the benchmark (lib/seeded-random.ts): `rand(n)` is 0..n-1. */
export function seededRandom(seed: number): (n: number) => number {
  const next = mulberry32(seed);
  return (n) => Math.floor(next() * n);
}
