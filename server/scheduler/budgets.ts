/**
 * Token and cost budgets: per lane, per repo (total and per day) and per day over
 * everything, fed by the engines' usage reports.
 *
 * - Usage of a lane rolls up to its parent lanes (a fan-out child's tokens count against the
 *   parent's budget too), to its repo, to the repo's day and to the day.
 * - A budget is *spent* when usage ≥ limit (so a limit of 0 allows nothing). {@link preflight}
 *   refuses to start a lane when any budget that covers it is spent; {@link exceeded} says which
 *   one, so a running lane can be stopped gracefully with `budget_exceeded`.
 * - Days are UTC calendar days of the injected clock (`now`, epoch ms); usage of past days is
 *   dropped when a new day begins.
 *
 * Budgets are validated with {@link BudgetSchema} (NaN, negatives, infinities rejected with the
 * field named). Also re-exports the {@link RateLimiter}.
 */
import { z } from "zod";
import { AppError } from "@/lib/errors";
import { parseOrThrow } from "@/lib/validate";
import { BudgetSchema, RepoBudgetSchema, UsageSchema, type Budget, type RepoBudget, type UsageInput } from "./schemas";
import type { BudgetMetric, BudgetScope } from "./types";

export { BudgetSchema, RepoBudgetSchema, UsageSchema } from "./schemas";
export { RateLimiter, type BackoffOptions } from "./rate-limiter";

export interface Totals {
  tokens: number;
  costUsd: number;
}

/** A budget that is spent: which one, by how much. */
export interface BudgetBreach {
  scope: BudgetScope;
  /** Lane id, repo id, `<day>|<repo id>` or `<day>`. */
  key: string;
  metric: BudgetMetric;
  spent: number;
  limit: number;
}

export type Preflight = { ok: true } | ({ ok: false; refused: true } & BudgetBreach);

export interface LedgerSnapshot {
  version: 1;
  lanes: Array<{ laneId: string; repoId: string; parentId: string | null; budget: Budget | null; used: Totals }>;
  repos: Array<{ repoId: string; budget: RepoBudget; used: Totals }>;
  day: string | null;
  dayBudget: Budget | null;
  dayUsed: Totals;
  repoDayUsed: Record<string, Totals>;
}

interface LaneAccount {
  repoId: string;
  parentId: string | null;
  budget: Budget | null;
  /** Own usage plus every descendant's. */
  used: Totals;
}

const LaneBudgetBody = z.object({ budget: BudgetSchema });
const zero = (): Totals => ({ tokens: 0, costUsd: 0 });
/** UTC calendar day of an epoch-ms instant, `YYYY-MM-DD`. */
export const utcDay = (now: number): string => new Date(now).toISOString().slice(0, 10);

/** First spent metric of `budget` given `used`, or null. */
function spent(scope: BudgetScope, key: string, budget: Budget | null | undefined, used: Totals): BudgetBreach | null {
  if (budget?.maxTokens !== undefined && used.tokens >= budget.maxTokens) return { scope, key, metric: "tokens", spent: used.tokens, limit: budget.maxTokens };
  if (budget?.maxCostUsd !== undefined && used.costUsd >= budget.maxCostUsd) return { scope, key, metric: "costUsd", spent: used.costUsd, limit: budget.maxCostUsd };
  return null;
}

export class BudgetLedger {
  #version = 0;
  /** Bumped whenever a lane's usage or account changes: equal versions, equal {@link usage} answers for lanes. */
  get version(): number {
    return this.#version;
  }

  #lanes = new Map<string, LaneAccount>();
  #repos = new Map<string, { budget: RepoBudget; used: Totals }>();
  #day: string | null = null;
  #dayBudget: Budget | null = null;
  #dayUsed = zero();
  #repoDayUsed = new Map<string, Totals>();

  /**
   * Open an account for a lane. `parentId` must be registered (usage rolls up to it).
   * @throws AppError invalid_input naming `budget.<field>` or `parentId`; conflict if registered.
   */
  registerLane(laneId: string, opts: { repoId: string; parentId?: string | null; budget?: unknown }): void {
    const budget = opts.budget === undefined || opts.budget === null ? null : this.#budget(opts.budget, true);
    if (this.#lanes.has(laneId)) throw new AppError("conflict", `lane ${laneId} already has a budget account`, { fields: ["laneId"] });
    if (opts.parentId && !this.#lanes.has(opts.parentId)) throw new AppError("invalid_input", `parentId: no lane ${opts.parentId}`, { fields: ["parentId"] });
    this.#lanes.set(laneId, { repoId: opts.repoId, parentId: opts.parentId ?? null, budget, used: zero() });
    this.#version++;
  }

  hasLane(laneId: string): boolean {
    return this.#lanes.has(laneId);
  }

  repoOf(laneId: string): string | null {
    return this.#lanes.get(laneId)?.repoId ?? null;
  }

  /** Replace a lane's budget (null = unlimited). @throws AppError invalid_input / not_found. */
  setLaneBudget(laneId: string, budget: unknown): void {
    const b = budget === null ? null : this.#budget(budget, true);
    this.#lane(laneId).budget = b;
  }

  /** Replace a repo's total and daily budgets. @throws AppError invalid_input naming e.g. `daily.maxCostUsd`. */
  setRepoBudget(repoId: string, budget: unknown): void {
    const b = parseOrThrow(RepoBudgetSchema, budget);
    this.#repo(repoId).budget = b;
  }

  /** The budget per UTC day over all repos (null = unlimited). */
  setDailyBudget(budget: unknown): void {
    this.#dayBudget = budget === null ? null : this.#budget(budget, false);
  }

  /**
   * Add a usage report to a lane, its ancestors, its repo, the repo's day and the day.
   * @returns budgets that became spent with this report (for events; use {@link exceeded} to
   *   decide which running lanes to stop).
   * @throws AppError invalid_input naming the usage field; not_found for an unknown lane.
   */
  record(laneId: string, usage: UsageInput, now: number): BudgetBreach[] {
    const u = parseOrThrow(UsageSchema, usage);
    const lane = this.#lane(laneId);
    const delta: Totals = { tokens: u.inputTokens + u.outputTokens, costUsd: u.costUsd };
    this.#version++;
    this.#rollDay(now);
    const day = this.#day!;
    const breaches: BudgetBreach[] = [];
    const add = (scope: BudgetScope, key: string, budget: Budget | null | undefined, used: Totals) => {
      const before = spent(scope, key, budget, used);
      used.tokens += delta.tokens;
      used.costUsd += delta.costUsd;
      const after = spent(scope, key, budget, used);
      if (after && !before) breaches.push(after);
    };
    for (let id: string | null = laneId, a: LaneAccount | undefined = lane; a; id = a.parentId, a = id ? this.#lanes.get(id) : undefined) add("lane", id!, a.budget, a.used);
    const repo = this.#repo(lane.repoId);
    add("repo", lane.repoId, repo.budget.total, repo.used);
    const rdKey = `${day}|${lane.repoId}`;
    let rd = this.#repoDayUsed.get(rdKey);
    if (!rd) this.#repoDayUsed.set(rdKey, (rd = zero()));
    add("repo_day", rdKey, repo.budget.daily, rd);
    add("day", day, this.#dayBudget, this.#dayUsed);
    return breaches;
  }

  /** May this lane start? Refuses when a budget covering it (lane, ancestors, repo, day) is spent. */
  preflight(laneId: string, now: number): Preflight {
    const b = this.exceeded(laneId, now);
    return b ? { ok: false, refused: true, ...b } : { ok: true };
  }

  /** The first spent budget covering a lane: lane-scoped ones first, then repo, repo day, day. */
  exceeded(laneId: string, now: number): BudgetBreach | null {
    return this.laneExceeded(laneId) ?? this.repoExceeded(this.#lane(laneId).repoId, now);
  }

  /** The first spent lane-scoped budget (the lane's own, then its ancestors'). */
  laneExceeded(laneId: string): BudgetBreach | null {
    for (let id: string | null = laneId; id; ) {
      const a = this.#lane(id);
      const b = spent("lane", id, a.budget, a.used);
      if (b) return b;
      id = a.parentId;
    }
    return null;
  }

  /** The first spent repo-wide budget: repo total, repo today, everything today. */
  repoExceeded(repoId: string, now: number): BudgetBreach | null {
    const day = utcDay(now);
    const repo = this.#repos.get(repoId);
    const sameDay = this.#day === day;
    const rdKey = `${day}|${repoId}`;
    return (
      spent("repo", repoId, repo?.budget.total, repo?.used ?? zero()) ??
      spent("repo_day", rdKey, repo?.budget.daily, (sameDay && this.#repoDayUsed.get(rdKey)) || zero()) ??
      spent("day", day, this.#dayBudget, sameDay ? this.#dayUsed : zero())
    );
  }

  /** Usage so far: a lane (with descendants), a repo, a repo today, or everything today. */
  usage(scope: BudgetScope, key: string, now: number): Totals {
    // Lane and repo totals are not per day: no date formatting for them (the board reads every
    // lane's usage on each request, and formatting a day is most of that).
    if (scope === "lane") return { ...this.#lane(key).used };
    if (scope === "repo") return { ...(this.#repos.get(key)?.used ?? zero()) };
    const day = utcDay(now);
    if (this.#day !== day) return zero();
    return { ...(scope === "day" ? this.#dayUsed : (this.#repoDayUsed.get(`${day}|${key}`) ?? zero())) };
  }

  snapshot(): LedgerSnapshot {
    return { version: 1, lanes: structuredClone([...this.#lanes].map(([laneId, a]) => ({ laneId, ...a }))), ...this.sharedSnapshot() };
  }

  /** The snapshot without the per-lane accounts (O(repos)): what is not kept on lanes. */
  sharedSnapshot(): Omit<LedgerSnapshot, "version" | "lanes"> {
    return structuredClone({
      repos: [...this.#repos].map(([repoId, r]) => ({ repoId, ...r })),
      day: this.#day,
      dayBudget: this.#dayBudget,
      dayUsed: this.#dayUsed,
      repoDayUsed: Object.fromEntries(this.#repoDayUsed),
    });
  }

  /** The budget of a lane (null = unlimited). @throws AppError not_found. */
  laneBudget(laneId: string): Budget | null {
    return this.#lane(laneId).budget;
  }

  /** A repo's budgets ({} = unlimited). */
  repoBudget(repoId: string): RepoBudget {
    return structuredClone(this.#repos.get(repoId)?.budget ?? {});
  }

  dailyBudget(): Budget | null {
    return this.#dayBudget;
  }

  /** Ids of a lane and its ancestors, nearest first. */
  lineage(laneId: string): string[] {
    const out: string[] = [];
    for (let id: string | null = laneId; id && this.#lanes.has(id); id = this.#lanes.get(id)!.parentId) out.push(id);
    return out;
  }

  /** Every repo with a budget or usage. */
  repoIds(): string[] {
    return [...this.#repos.keys()];
  }

  /** Rebuild from a snapshot; `clone: false` takes ownership of `snap` (no copy) — for a snapshot built just for this. */
  static restore(snap: LedgerSnapshot, opts: { clone?: boolean } = {}): BudgetLedger {
    const s = opts.clone === false ? snap : structuredClone(snap);
    const l = new BudgetLedger();
    for (const { laneId, ...a } of s.lanes) l.#lanes.set(laneId, a);
    for (const { repoId, ...r } of s.repos) l.#repos.set(repoId, r);
    l.#day = s.day;
    l.#dayBudget = s.dayBudget;
    l.#dayUsed = s.dayUsed;
    l.#repoDayUsed = new Map(Object.entries(s.repoDayUsed));
    return l;
  }

  /** Validate a budget; errors name `budget.<field>` for a lane's budget, `<field>` otherwise. */
  #budget(input: unknown, asLaneBudget: boolean): Budget {
    return asLaneBudget ? parseOrThrow(LaneBudgetBody, { budget: input }).budget : parseOrThrow(BudgetSchema, input);
  }

  #lane(laneId: string): LaneAccount {
    const a = this.#lanes.get(laneId);
    if (!a) throw new AppError("not_found", `no budget account for lane ${laneId}`, { fields: ["laneId"] });
    return a;
  }

  #repo(repoId: string): { budget: RepoBudget; used: Totals } {
    let r = this.#repos.get(repoId);
    if (!r) this.#repos.set(repoId, (r = { budget: {}, used: zero() }));
    return r;
  }

  /** Move to `now`'s day, dropping the old day's usage; a late report for a past day counts today. */
  #rollDay(now: number): void {
    const day = utcDay(now);
    if (this.#day !== null && day <= this.#day) return;
    this.#day = day;
    this.#dayUsed = zero();
    this.#repoDayUsed.clear();
  }
}
