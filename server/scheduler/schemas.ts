/**
 * zod schemas for the scheduler's API inputs and persisted shapes (issue 6). Parse at the
 * boundary with `parseOrThrow` (lib/validate.ts): a failure is `AppError("invalid_input")`
 * (HTTP 422) whose message and `details.fields` name the field at fault, e.g.
 * `global.agent: Too small: expected number to be >=0`.
 *
 * Units: times are epoch milliseconds, costs are US dollars, tokens are counts.
 * These could move to `lib/` once the API routes use them; nothing here imports server code.
 */
import { z } from "zod";

export const POOLS = ["agent", "check", "background"] as const;
export const PoolSchema = z.enum(POOLS).describe("Concurrency pool: agent workers, check runs or background processes");
export type Pool = z.infer<typeof PoolSchema>;

export const PRIORITY_MIN = -1000;
export const PRIORITY_MAX = 1000;
export const PrioritySchema = z.number().int().min(PRIORITY_MIN).max(PRIORITY_MAX).describe("Higher starts first; -1000..1000, default 0");

export const IdSchema = z.string().min(1).max(200);
/** Epoch milliseconds (up to the ECMAScript Date maximum). */
export const EpochMsSchema = z.number().int().min(0).max(8.64e15);

/** One queued unit of work as the {@link DispatchQueue} holds and persists it. */
export const QueueItemSchema = z
  .object({
    laneId: IdSchema,
    repoId: IdSchema,
    pool: PoolSchema,
    priority: PrioritySchema,
    deadline: EpochMsSchema.nullable(),
    enqueuedAt: EpochMsSchema,
    seq: z.number().int().min(0).optional().describe("Tiebreak, persisted; assigned by the queue when absent"),
    engine: z.string().min(1).max(100).nullable().optional().describe("Engine whose rate limit gates the start"),
  })
  .strict();
export type QueueItemInput = z.input<typeof QueueItemSchema>;

export const CapSchema = z.number().int().min(0).max(100_000).describe("Concurrent starts allowed; 0 pauses the pool");
export const PoolCapsSchema = z.object({ agent: CapSchema, check: CapSchema, background: CapSchema }).strict();
export type PoolCaps = z.infer<typeof PoolCapsSchema>;
/** Per-repo caps: null means "no per-repo cap" for that pool. */
export const RepoCapsSchema = z.object({ agent: CapSchema.nullable(), check: CapSchema.nullable(), background: CapSchema.nullable() }).strict();
export type RepoCaps = z.infer<typeof RepoCapsSchema>;

/**
 * Body of `PATCH /api/v1/scheduler/caps`. Every part is optional; what is absent is unchanged.
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

/** A token and/or cost limit. Absent fields are unlimited. */
export const BudgetSchema = z
  .object({
    maxTokens: z.number().int().min(0).optional().describe("Input + output tokens"),
    maxCostUsd: z.number().min(0).max(1e9).optional().describe("US dollars"),
  })
  .strict();
export type Budget = z.infer<typeof BudgetSchema>;

export const RepoBudgetSchema = z.object({ total: BudgetSchema.optional(), daily: BudgetSchema.optional() }).strict();
export type RepoBudget = z.infer<typeof RepoBudgetSchema>;

/** One usage report from an engine (adds to what was reported before). */
export const UsageSchema = z
  .object({
    inputTokens: z.number().int().min(0).default(0),
    outputTokens: z.number().int().min(0).default(0),
    costUsd: z.number().min(0).max(1e9).default(0),
  })
  .strict();
export type Usage = z.infer<typeof UsageSchema>;
export type UsageInput = z.input<typeof UsageSchema>;

export const RateLimitSchema = z
  .object({
    requestsPerMinute: z.number().gt(0).max(1_000_000),
    burst: z.number().int().min(1).max(1_000_000).optional().describe("Bucket size; defaults to max(1, floor(rpm))"),
  })
  .strict();
export type RateLimit = z.infer<typeof RateLimitSchema>;

export const DEPENDENCY_MODES = ["wait_all", "wait_any"] as const;
export const DependencyModeSchema = z.enum(DEPENDENCY_MODES);
export type DependencyMode = z.infer<typeof DependencyModeSchema>;

/** What a dependant needs from its dependency beyond success: a commit on its branch, or a file. */
export const ArtifactSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("commit") }).strict(),
  z
    .object({ kind: z.literal("file"), path: z.string().min(1).max(4096) })
    .strict()
    .refine((a) => !a.path.startsWith("/") && !a.path.split("/").includes(".."), { message: "must be relative, without '..'", path: ["path"] }),
]);
export type Artifact = z.infer<typeof ArtifactSchema>;

/**
 * The scheduling fields of a lane create/update body. A factory because two rules need context:
 * `deadline` must be after `now` (injected clock), and `dependsOn` must not name the lane itself.
 * `deadline` accepts epoch ms or an ISO 8601 string and comes out as epoch ms (or null).
 * Existence of the dependencies and cycles are checked against state by the DependencyGraph.
 */
export function laneSchedulingSchema(ctx: { now: number; laneId?: string }) {
  return z
    .object({
      pool: PoolSchema.default("agent"),
      priority: PrioritySchema.default(0),
      deadline: z
        .union([EpochMsSchema, z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))])
        .nullable()
        .default(null)
        .refine((d) => d === null || d > ctx.now, "must not be in the past"),
      dependsOn: z
        .array(IdSchema)
        .max(500)
        .default([])
        .superRefine((ids, issue) => {
          const seen = new Set<string>();
          ids.forEach((id, i) => {
            if (id === ctx.laneId) issue.addIssue({ code: "custom", path: [i], message: `a lane cannot depend on itself (${id})` });
            if (seen.has(id)) issue.addIssue({ code: "custom", path: [i], message: `duplicate dependency ${id}` });
            seen.add(id);
          });
        }),
      mode: DependencyModeSchema.default("wait_all"),
      artifact: ArtifactSchema.optional(),
      budget: BudgetSchema.optional(),
      parentId: IdSchema.optional().describe("Lane that spawned this one; usage rolls up to it"),
    })
    .strict();
}
export type LaneScheduling = z.infer<ReturnType<typeof laneSchedulingSchema>>;
export type LaneSchedulingInput = z.input<ReturnType<typeof laneSchedulingSchema>>;
