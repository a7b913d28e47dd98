/**
 * zod schemas for the scheduler's API inputs and persisted shapes. Parse at the
 * boundary with `parseOrThrow` (lib/validate.ts): a failure is `AppError("invalid_input")`
 * (HTTP 422) whose message and `details.fields` name the field at fault, e.g.
 * `global.agent: Too small: expected number to be >=0`.
 *
 * Units: times are epoch milliseconds, costs are US dollars, tokens are counts.
 * The schemas the API and the board share live in lib/scheduling.ts and are re-exported here;
 * this file keeps the server-side ones (queue items, usage reports, the clock-aware factory).
 */
import { z } from "zod";
import { parseOrThrow } from "@/lib/validate";
import { ArtifactSchema, BudgetSchema, DeadlineInputSchema, DependencyModeSchema, EpochMsSchema, IdSchema, PoolSchema, PrioritySchema } from "@/lib/scheduling";

export {
  ArtifactSchema, BudgetSchema, CapSchema, CapsUpdateSchema, DEPENDENCY_MODES, DependencyModeSchema, EpochMsSchema, IdSchema, POOLS, PoolCapsSchema,
  PoolSchema, PRIORITY_MAX, PRIORITY_MIN, PrioritySchema, RateLimitSchema, RepoBudgetSchema, RepoCapsSchema,
} from "@/lib/scheduling";
export type { Artifact, Budget, CapsUpdate, DependencyMode, Pool, PoolCaps, RateLimit, RepoBudget, RepoCaps } from "@/lib/scheduling";

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

/** What the scheduling rules that need context read: the clock, and the lane being scheduled. */
type SchedulingContext = { now: number; laneId?: string };

/** The scheduling fields' schema, its two context rules reading `ctx()` when they run. */
function schedulingSchema(ctx: () => SchedulingContext) {
  return z
    .object({
      pool: PoolSchema.default("agent"),
      priority: PrioritySchema.default(0),
      deadline: DeadlineInputSchema
        .nullable()
        .default(null)
        .refine((d) => d === null || d > ctx().now, "must not be in the past"),
      dependsOn: z
        .array(IdSchema)
        .max(500)
        .default([])
        .superRefine((ids, issue) => {
          const seen = new Set<string>();
          const self = ctx().laneId;
          ids.forEach((id, i) => {
            if (id === self) issue.addIssue({ code: "custom", path: [i], message: `a lane cannot depend on itself (${id})` });
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

/**
 * The scheduling fields of a lane create/update body. A factory because two rules need context:
 * `deadline` must be after `now` (injected clock), and `dependsOn` must not name the lane itself.
 * `deadline` accepts epoch ms or an ISO 8601 string and comes out as epoch ms (or null).
 * Existence of the dependencies and cycles are checked against state by the DependencyGraph.
 * Building a zod object schema costs ~2 ms (zod compiles a parser per instance on its first
 * parse): for the per-lane path use {@link parseLaneScheduling}, which builds none.
 */
export function laneSchedulingSchema(ctx: SchedulingContext) {
  return schedulingSchema(() => ctx);
}

/** The context {@link LANE_SCHEDULING}'s rules read, set only while {@link parseLaneScheduling} parses. */
let parsing: SchedulingContext | null = null;
const LANE_SCHEDULING = schedulingSchema(() => {
  if (!parsing) throw new Error("LANE_SCHEDULING is parsed through parseLaneScheduling only");
  return parsing;
});

/**
 * Parse a lane's scheduling fields as `laneSchedulingSchema(ctx)` does, with one schema built
 * once: zod parses synchronously, so the context set for this parse is the one its rules read.
 * @throws AppError invalid_input naming the field, as parseOrThrow (lib/validate.ts)
 */
export function parseLaneScheduling(ctx: SchedulingContext, input: unknown): z.infer<typeof LANE_SCHEDULING> {
  parsing = ctx;
  try {
    return parseOrThrow(LANE_SCHEDULING, input);
  } finally {
    parsing = null;
  }
}
export type LaneScheduling = z.infer<ReturnType<typeof laneSchedulingSchema>>;
export type LaneSchedulingInput = z.input<ReturnType<typeof laneSchedulingSchema>>;
