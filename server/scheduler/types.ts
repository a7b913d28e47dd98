/**
 * Shapes shared by the scheduling core (dispatch queue, capacity, dependency graph, budgets).
 * Times are epoch milliseconds from an injected clock; nothing here reads the wall clock.
 */
import type { Pool } from "./schemas";

export type { Pool } from "./schemas";

/** A queued unit of work. One per lane at a time (the key is `laneId`). */
export interface QueueItem {
  readonly laneId: string;
  readonly repoId: string;
  readonly pool: Pool;
  /** -1000..1000, higher first. */
  readonly priority: number;
  /** Epoch ms; earliest first; null sorts after every deadline. */
  readonly deadline: number | null;
  /** Epoch ms; older first. */
  readonly enqueuedAt: number;
  /** Final tiebreak, unique per queue and persisted, so a rebuilt queue orders identically. */
  readonly seq: number;
  /** Engine whose rate limit gates this start (agent lanes); null for checks/background. */
  readonly engine: string | null;
}

export type BudgetScope = "lane" | "repo" | "repo_day" | "day";
export type BudgetMetric = "tokens" | "costUsd";

/** Why a queued lane has not started (zod schema in lib/scheduling.ts). */
export type { WaitReason } from "@/lib/scheduling";
import type { WaitReason } from "@/lib/scheduling";

/**
 * What the dispatch queue asks about the world when choosing the next start. Counts are slots:
 * `cap - running`, which may be ≤ 0 right after a cap was lowered (running work is never stopped).
 * The optional gates are consulted only for candidates, never for the whole queue.
 */
export interface CapacityView {
  globalFree(pool: Pool): number;
  repoFree(pool: Pool, repoId: string): number;
  /** Epoch ms before which `engine` may not start work (rate limit / backoff), or null if it may now. */
  engineRetryAt?(engine: string, now: number): number | null;
  /** A reason why nothing in this repo may start now (repo or daily budget spent), or null. */
  repoBlock?(repoId: string, now: number): WaitReason | null;
  /** A reason why this lane may not start (its own budget spent); the queue parks it until released. */
  laneBlock?(item: QueueItem, now: number): WaitReason | null;
}

export interface DispatchDecision {
  pool: Pool;
  repoId: string;
  laneId: string;
  /** The fair-share virtual start tag this start was served at. */
  round: number;
  /** Repos skipped in this decision (their cap or a repo-wide gate), with why. At most 20 listed. */
  passedOver: Array<{ repoId: string; waitingFor: WaitReason }>;
  /** Lanes parked during this decision by a lane-level gate. */
  parked: Array<{ laneId: string; waitingFor: WaitReason }>;
  /** Lanes still queued in the pool (parked ones included). */
  queuedInPool: number;
}

export interface Explanation {
  laneId: string;
  repoId: string;
  pool: Pool;
  /** 1-based place in the pool's dispatch order if nothing gated it; null while parked. */
  position: number | null;
  waitingFor: WaitReason;
}

/** Persisted form; `DispatchQueue.restore(snapshot)` rebuilds an identical queue. */
export interface QueueSnapshot {
  version: 1;
  nextSeq: number;
  items: Array<QueueItem & { parked?: WaitReason }>;
  fairness: Record<Pool, { vtime: number; tags: Record<string, number> }>;
  weights: Record<string, number>;
}

/** A capacity view with no limits: used to compute positions and by tests. */
export const UNLIMITED: CapacityView = {
  globalFree: () => Number.POSITIVE_INFINITY,
  repoFree: () => Number.POSITIVE_INFINITY,
};
