/**
 * Pool caps and running counts: the capacity half of a {@link CapacityView}.
 *
 * Caps exist per pool (`agent`, `check`, `background`) globally, as a default per repo, and as
 * per-repo overrides; all can change at runtime ({@link CapacityTracker.setCaps}). Lowering a
 * cap never stops running work: free slots become ≤ 0 and only new starts wait.
 * Running work is tracked by id (a lane id, or any unique id for a check/background run), so
 * `finished` is idempotent and a restart rebuilds the counts by calling `started` for every live
 * lane the supervisor reattached.
 */
import { AppError } from "@/lib/errors";
import type { CapsConfig } from "@/lib/scheduling";
import { parseOrThrow } from "@/lib/validate";
import { CapsUpdateSchema, POOLS, PoolSchema, type CapsUpdate, type Pool } from "./schemas";
import type { CapacityView } from "./types";

export const DEFAULT_CAPS: CapsConfig = {
  global: { agent: 4, check: 2, background: 2 },
  perRepo: { agent: null, check: null, background: null },
  repos: {},
};

type Counts = Record<Pool, number>;
/** Pools of lanes, which run on a node's slots (the check pool is for checks beside a lane). */
const LANE_POOLS: readonly Pool[] = ["agent", "background"];
const zero = (): Counts => ({ agent: 0, check: 0, background: 0 });

export class CapacityTracker implements CapacityView {
  #caps: CapsConfig;
  #running = new Map<string, { repoId: string; pool: Pool }>();
  #global = zero();
  #perRepo = new Map<string, Counts>();
  /** Slots of the nodes lanes may run on (a cluster), null: not bounded ({@link setNodeSlots}). */
  #nodeSlots: number | null = null;

  constructor(caps: CapsConfig = DEFAULT_CAPS) {
    this.#caps = structuredClone(caps);
  }

  get caps(): CapsConfig {
    return structuredClone(this.#caps);
  }

  /**
   * Apply a partial caps update (validated). Running work is untouched.
   * @returns the caps now in force.
   * @throws AppError invalid_input naming the field (e.g. `global.agent`); nothing changes then.
   */
  setCaps(update: unknown): CapsConfig {
    const u: CapsUpdate = parseOrThrow(CapsUpdateSchema, update);
    const next = structuredClone(this.#caps);
    Object.assign(next.global, u.global);
    Object.assign(next.perRepo, u.perRepo);
    for (const [repoId, o] of Object.entries(u.repos ?? {})) {
      if (o === null) delete next.repos[repoId];
      else next.repos[repoId] = { ...next.repos[repoId], ...o };
    }
    this.#caps = next;
    return this.caps;
  }

  /** The cap that applies to a repo and pool (override, else default); null = none. */
  repoCap(pool: Pool, repoId: string): number | null {
    const o = this.#caps.repos[repoId]?.[pool];
    return o !== undefined ? o : this.#caps.perRepo[pool];
  }

  /**
   * Bound the lane pools by the slots of the nodes lanes can be placed on: on a cluster, the live
   * nodes' total capacity (a global cap of 1,000 is of no use when the nodes have 12 slots between
   * them). A node's slot is taken by any lane starting or running on it, agent or background (as
   * the dispatcher counts), so both pools draw on the same slots; checks run beside their lane and
   * take none. The caps, as saved and shown, are unchanged.
   * @param total slots (negative counts as 0), or null to lift the bound (one node)
   */
  setNodeSlots(total: number | null): void {
    this.#nodeSlots = total === null ? null : Math.max(0, total);
  }

  globalFree(pool: Pool): number {
    const free = this.#caps.global[pool] - this.#global[pool];
    if (this.#nodeSlots === null || !LANE_POOLS.includes(pool)) return free;
    return Math.min(free, this.#nodeSlots - LANE_POOLS.reduce((n, p) => n + this.#global[p], 0));
  }

  repoFree(pool: Pool, repoId: string): number {
    const cap = this.repoCap(pool, repoId);
    return cap === null ? Number.POSITIVE_INFINITY : cap - (this.#perRepo.get(repoId)?.[pool] ?? 0);
  }

  /** Count a start. @throws AppError conflict if `id` is already running. */
  started(id: string, repoId: string, pool: Pool): void {
    PoolSchema.parse(pool);
    if (this.#running.has(id)) throw new AppError("conflict", `${id} is already running`);
    this.#running.set(id, { repoId, pool });
    this.#global[pool]++;
    let c = this.#perRepo.get(repoId);
    if (!c) this.#perRepo.set(repoId, (c = zero()));
    c[pool]++;
  }

  /** Count an end. Idempotent: returns false if `id` was not running. */
  finished(id: string): boolean {
    const r = this.#running.get(id);
    if (!r) return false;
    this.#running.delete(id);
    this.#global[r.pool]--;
    const c = this.#perRepo.get(r.repoId)!;
    c[r.pool]--;
    if (POOLS.every((p) => c[p] === 0)) this.#perRepo.delete(r.repoId);
    return true;
  }

  runningIds(): string[] {
    return [...this.#running.keys()];
  }

  isRunning(id: string): boolean {
    return this.#running.has(id);
  }

  /** Running counts, globally or for one repo. */
  running(repoId?: string): Counts {
    return { ...(repoId === undefined ? this.#global : (this.#perRepo.get(repoId) ?? zero())) };
  }

  /** Running counts of every repo that has running work. */
  runningPerRepo(): Record<string, Counts> {
    return Object.fromEntries([...this.#perRepo].map(([repoId, c]) => [repoId, { ...c }]));
  }

  /** Ids of running work in a repo (e.g. to stop them when the repo budget is spent). */
  runningIn(repoId: string): string[] {
    return [...this.#running].filter(([, r]) => r.repoId === repoId).map(([id]) => id);
  }
}
