/**
 * What the runtime's services use of a scheduler: the {@link Scheduler} itself on one node, the
 * cluster's facade (server/cluster/cluster-scheduler.ts) when several nodes share a database.
 * Here, below both, so the services that use it do not depend on the cluster.
 */
import type { LaneScheduleView } from "@/lib/scheduling";
import type { LaneRow } from "../records/lane-store";
import type { Scheduler } from "./scheduler";
import type { LaneSchedulingRow, Where } from "./scheduler-views";
import type { LaneScheduling, Pool } from "./schemas";

/** What the runtime's services use of a scheduler (both {@link Scheduler} and the cluster facade). */
export interface SchedulerApi {
  now(): number;
  kick(): Promise<void>;
  submit(lane: { id: string; repoId: string; engine: string }, s: LaneScheduling, queuedAt: number): Promise<void>;
  requeue(lane: LaneRow, transition: (data: Pick<LaneRow, "queuedAt" | "queueSeq" | "deadline" | "produced">) => Promise<LaneRow | null>): Promise<LaneRow | null>;
  acquire(pool: Pool, opts: { repoId: string; laneId?: string | null; priority?: number }): Promise<() => void>;
  reportThrottle(engine: string, retryAfterMs?: number): void;
  whereMany(laneIds: readonly string[]): Promise<Map<string, Where>>;
  laneSchedule(row: LaneSchedulingRow): LaneScheduleView;
  /** Just the `used` part of {@link laneSchedule}: it moves with the ledger, the rest only when the row is written. */
  laneUsage(row: Pick<LaneSchedulingRow, "id" | "usedTokens" | "usedCostUsd">): LaneScheduleView["used"];
  /** Changes whenever any lane's {@link laneUsage} may answer differently (a node that does not lead: the rows' own columns, so a constant). */
  usageVersion(): number;
  /** The settings verbs and views (scheduler-settings.ts). */
  readonly settings: SettingsApi;
  /** Resolves once every request received so far has been applied (the leader's chain is empty). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export const SCHEDULER_SETTINGS = ["caps", "setCaps", "rateLimits", "setRateLimits", "budgets", "setBudgets", "setLaneBudget", "reschedule", "queue"] as const;
export type SettingName = (typeof SCHEDULER_SETTINGS)[number];
type Settings = Scheduler["settings"];
/** The settings verbs and views: the scheduler's own answer on the leader (some are synchronous there), a promise elsewhere. */
export type SettingsApi = { [K in SettingName]: (...args: Parameters<Settings[K]>) => ReturnType<Settings[K]> | Promise<Awaited<ReturnType<Settings[K]>>> };

