/**
 * Scheduling shapes shared by server and browser: pools, priorities, budgets,
 * dependencies, caps, why a queued lane waits, and the scheduler's API bodies and views.
 * The server's scheduling core (server/scheduler) validates with these same schemas; rules that
 * need state or a clock (deadline in the past, a dependency that does not exist, cycles) are
 * checked there.
 *
 * Units: times are epoch milliseconds (or ISO 8601 strings where an input says so), costs are
 * US dollars, tokens are counts (input + output).
 */
import { z } from "zod";

export const POOLS = ["agent", "check", "background"] as const;
export const PoolSchema = z.enum(POOLS).describe("Concurrency pool: agent workers, check runs or background processes");
export type Pool = z.infer<typeof PoolSchema>;
/** Pools a lane's worker may run in (`check` is for acceptance-check runs). */
export const LanePoolSchema = z.enum(["agent", "background"]).describe("Pool of the lane's worker: agent (default) or background for long runs");

export const PRIORITY_MIN = -1000;
export const PRIORITY_MAX = 1000;
export const PrioritySchema = z.number().int().min(PRIORITY_MIN).max(PRIORITY_MAX).describe("Higher starts first; -1000..1000, default 0");

export const IdSchema = z.string().min(1).max(200);
/** Epoch milliseconds (up to the ECMAScript Date maximum). */
export const EpochMsSchema = z.number().int().min(0).max(8.64e15);
/** A deadline as epoch ms or an ISO 8601 string with offset; parsed to epoch ms. */
export const DeadlineInputSchema = z
  .union([EpochMsSchema, z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))])
  .describe("Start-by time: epoch ms or ISO 8601; earliest first among equal priorities; must not be in the past");

/** A token and/or cost limit. Absent fields are unlimited; 0 allows nothing. */
export const BudgetSchema = z
  .object({
    maxTokens: z.number().int().min(0).optional().describe("Input + output tokens"),
    maxCostUsd: z.number().min(0).max(1e9).optional().describe("US dollars"),
  })
  .strict();
export type Budget = z.infer<typeof BudgetSchema>;

export const RepoBudgetSchema = z
  .object({ total: BudgetSchema.optional().describe("Over the repo's lifetime"), daily: BudgetSchema.optional().describe("Per UTC day") })
  .strict();
export type RepoBudget = z.infer<typeof RepoBudgetSchema>;

export const DEPENDENCY_MODES = ["wait_all", "wait_any"] as const;
export const DependencyModeSchema = z.enum(DEPENDENCY_MODES).describe("wait_all: every dependency must succeed; wait_any: one is enough");
export type DependencyMode = z.infer<typeof DependencyModeSchema>;

/** What a dependant needs from its dependencies beyond success: a commit on their branch, or a file changed on it. */
export const ArtifactSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("commit") }).strict(),
  z
    .object({ kind: z.literal("file"), path: z.string().min(1).max(4096) })
    .strict()
    .refine((a) => !a.path.startsWith("/") && !a.path.split("/").includes(".."), { message: "must be relative, without '..'", path: ["path"] }),
]);
export type Artifact = z.infer<typeof ArtifactSchema>;

export const CapSchema = z.number().int().min(0).max(100_000).describe("Concurrent starts allowed; 0 pauses the pool");
export const PoolCapsSchema = z.object({ agent: CapSchema, check: CapSchema, background: CapSchema }).strict();
export type PoolCaps = z.infer<typeof PoolCapsSchema>;
/** Per-repo caps: null means "no per-repo cap" for that pool. */
export const RepoCapsSchema = z.object({ agent: CapSchema.nullable(), check: CapSchema.nullable(), background: CapSchema.nullable() }).strict();
export type RepoCaps = z.infer<typeof RepoCapsSchema>;

/**
 * Body of `PUT /api/v1/scheduler/caps`. Every part is optional; what is absent is unchanged.
 * `repos[id] = null` drops that repo's overrides (it falls back to `perRepo`).
 */
export const CapsUpdateSchema = z
  .object({
    global: PoolCapsSchema.partial().optional().describe("Caps over all repos"),
    perRepo: RepoCapsSchema.partial().optional().describe("Default cap for each repo"),
    repos: z.record(IdSchema, RepoCapsSchema.partial().nullable()).optional().describe("Overrides by repo id"),
  })
  .strict();
export type CapsUpdate = z.infer<typeof CapsUpdateSchema>;

export const CapsConfigSchema = z.object({ global: PoolCapsSchema, perRepo: RepoCapsSchema, repos: z.record(z.string(), RepoCapsSchema.partial()) });
export type CapsConfig = z.infer<typeof CapsConfigSchema>;

/**
 * The slowest rate a limit may set: one start per 1000 minutes. Anything slower made the wait
 * before the next token (60 000 / rpm ms) overflow a Date and broke the next lane start.
 */
export const MIN_REQUESTS_PER_MINUTE = 0.001;

export const RateLimitSchema = z
  .object({
    requestsPerMinute: z.number().min(MIN_REQUESTS_PER_MINUTE, `must be at least ${MIN_REQUESTS_PER_MINUTE} (one per 1000 minutes)`).max(1_000_000),
    burst: z.number().int().min(1).max(1_000_000).optional().describe("Bucket size; defaults to max(1, floor(rpm))"),
  })
  .strict();
export type RateLimit = z.infer<typeof RateLimitSchema>;

/** Body of `PUT /api/v1/scheduler/limits`: engine → limit (null removes it). Lane starts take one token. */
export const RateLimitsUpdateSchema = z.record(z.string().min(1).max(100), RateLimitSchema.nullable());

/** Body of `PUT /api/v1/scheduler/budgets`: repo budgets (null removes) and the daily budget over all repos. */
export const BudgetsUpdateSchema = z
  .object({
    repos: z.record(IdSchema, RepoBudgetSchema.nullable()).optional(),
    daily: BudgetSchema.nullable().optional().describe("Per UTC day over every repo"),
  })
  .strict();

/** Body of `PUT /api/v1/lanes/:id/budget`. */
export const LaneBudgetBodySchema = z.object({ budget: BudgetSchema.nullable().describe("null = unlimited") }).strict();

/** Body of `PATCH /api/v1/lanes/:id/schedule` (queued lanes only); absent fields are unchanged. */
export const ScheduleUpdateSchema = z
  .object({
    priority: PrioritySchema.optional(),
    deadline: DeadlineInputSchema.nullable().optional(),
    dependsOn: z.array(IdSchema).max(500).optional(),
    mode: DependencyModeSchema.optional(),
    artifact: ArtifactSchema.nullable().optional(),
  })
  .strict();
export type ScheduleUpdate = z.input<typeof ScheduleUpdateSchema>;

export const BUDGET_SCOPES = ["lane", "repo", "repo_day", "day"] as const;

/** Why a queued lane has not started. Shown on the board and in the API. */
export const WaitReasonSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("cap"), pool: PoolSchema, scope: z.enum(["global", "repo"]) }),
  z.object({
    kind: z.literal("dependency"),
    laneIds: z.array(z.string()),
    blockedBy: z.object({ laneId: z.string(), reason: z.string() }).optional().describe("Set when the lane can never start as things stand"),
  }),
  z.object({
    kind: z.literal("budget"),
    scope: z.enum(BUDGET_SCOPES),
    key: z.string().describe("Lane id, repo id, `<day>|<repo id>` or `<day>`"),
    metric: z.enum(["tokens", "costUsd"]),
    spent: z.number(),
    limit: z.number(),
  }),
  z.object({ kind: z.literal("rate_limit"), engine: z.string(), retryAt: z.number().describe("Epoch ms") }),
  /** Nothing blocks it; lanes ahead of it (see `position`) go first. */
  z.object({ kind: z.literal("turn") }),
]);
export type WaitReason = z.infer<typeof WaitReasonSchema>;

/** A short human reason for a wait, for `lane.queued.reason` and the board. */
export function describeWait(w: WaitReason): string {
  switch (w.kind) {
    case "cap":
      return `waiting for a free ${w.pool} slot (${w.scope} cap)`;
    case "dependency":
      return w.blockedBy ? `blocked: ${w.blockedBy.reason}` : `waiting for ${w.laneIds.join(", ")}`;
    case "budget":
      return `${w.scope.replace("_", " ")} budget spent (${w.metric === "costUsd" ? `cost $${+w.spent.toFixed(4)} of $${w.limit}` : `tokens ${w.spent} of ${w.limit}`})`;
    case "rate_limit":
      return `${w.engine} rate-limited until ${new Date(w.retryAt).toISOString()}`;
    case "turn":
      return "waiting for its turn";
  }
}

export const TotalsSchema = z.object({ tokens: z.number(), costUsd: z.number() });

/** A lane's scheduling settings and usage (LaneView.schedule). */
export const LaneScheduleViewSchema = z.object({
  pool: PoolSchema,
  priority: z.number().int(),
  deadline: z.string().nullable().describe("ISO 8601"),
  dependsOn: z.array(z.string()),
  mode: DependencyModeSchema,
  artifact: ArtifactSchema.nullable(),
  parentId: z.string().nullable(),
  budget: BudgetSchema.nullable(),
  /** Usage of the lane and its descendants. */
  used: TotalsSchema,
});
export type LaneScheduleView = z.infer<typeof LaneScheduleViewSchema>;

/** `GET /api/v1/scheduler/caps`: caps in force and what runs now. */
export const CapsViewSchema = z.object({
  caps: CapsConfigSchema,
  running: z.object({ global: PoolCapsSchema, perRepo: z.record(z.string(), PoolCapsSchema) }),
  queued: PoolCapsSchema,
});
export type CapsView = z.infer<typeof CapsViewSchema>;

export const QueueEntrySchema = z.object({
  laneId: z.string(),
  repoId: z.string(),
  pool: PoolSchema,
  priority: z.number().int(),
  deadline: z.string().nullable(),
  queuedAt: z.string(),
  /** 1-based place in the pool's dispatch order; null while held (dependency, budget). */
  position: z.number().int().nullable(),
  waitingFor: WaitReasonSchema,
  reason: z.string(),
});
export type QueueEntry = z.infer<typeof QueueEntrySchema>;

export const QueueQuerySchema = z.object({
  pool: PoolSchema.optional(),
  repoId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(500),
});

/** `GET /api/v1/scheduler/queue`: queued lanes in dispatch order (held lanes last). */
export const QueueViewSchema = z.object({ total: z.number().int(), entries: z.array(QueueEntrySchema) });
export type QueueView = z.infer<typeof QueueViewSchema>;

export const BudgetsViewSchema = z.object({
  daily: BudgetSchema.nullable(),
  today: z.object({ day: z.string(), used: TotalsSchema }),
  repos: z.record(z.string(), z.object({ budget: RepoBudgetSchema, used: TotalsSchema, usedToday: TotalsSchema })),
});
export type BudgetsView = z.infer<typeof BudgetsViewSchema>;

export const RateLimitsViewSchema = z.record(z.string(), z.object({ limit: RateLimitSchema.nullable(), retryAt: z.number().nullable() }));
