/**
 * Bodies and responses of the session control API for claws (docs/workers.md, "Session control API"):
 *
 * | verb | route | body / query → response |
 * | --- | --- | --- |
 * | create worker | `POST /api/v1/lanes/:id/worker` | `{ by? }` → {@link WorkerStateResponse} (202) |
 * | fetch state | `GET /api/v1/lanes/:id/worker` | → {@link WorkerStateResponse} |
 * | terminate | `DELETE /api/v1/lanes/:id/worker` | `{ graceMs? }` → {@link WorkerStateResponse} |
 * | await ready | `GET /api/v1/lanes/:id/worker/ready?timeoutMs=` | → {@link AwaitReadyResponse} |
 * | send prompt / follow-up | `POST /api/v1/lanes/:id/worker/prompt` | `{ text }` → {@link PromptResponse} |
 * | resolve trust | `POST /api/v1/lanes/:id/worker/trust` | `{ by? }` → {@link WorkerStateResponse} |
 * | fetch last error | `GET /api/v1/lanes/:id/worker/error` | → {@link LastErrorResponse} (cleared by a later success) |
 * | summary | `GET /api/v1/lanes/:id/summary` | → `LaneSummary` (./lane-summary.ts) |
 * | restart | `POST /api/v1/lanes/:id/restart` | (lane API) a new worker in the same worktree |
 * Errors are `{ error: { code, message } }` (./errors.ts): `not_found`, `not_ready`, `conflict`,
 * `not_supported`, `not_running`, `invalid_input`.
 */
import { z } from "zod";
import { FailureClassSchema, LaneStateSchema } from "./lane-state";
import { LaneSummarySchema } from "./lane-summary";
import { WorkerViewSchema } from "./worker-state";

/** Longest `timeoutMs` of a long poll (ms): below common proxy/client idle timeouts. */
export const MAX_AWAIT_READY_MS = 120_000;

export const CreateWorkerBodySchema = z
  .object({ by: z.string().min(1).max(200).optional().describe("Who asks (shown in lane.restarted)") })
  .default({});

export const AwaitReadyQuerySchema = z.object({
  timeoutMs: z.coerce.number().int().min(0).max(MAX_AWAIT_READY_MS).default(30_000).describe("Longest wait in ms; 0 answers at once"),
});

export const PromptBodySchema = z.object({
  text: z.string().min(1).max(200_000).describe("The prompt (to a worker in ready_for_prompt) or follow-up (to a lane whose run has ended)"),
});

export const ResolveTrustBodySchema = z
  .object({ by: z.string().min(1).max(200).optional().describe("Who resolved the trust prompt (shown in trust_resolved)") })
  .default({});

export const WorkerStateResponseSchema = z.object({
  laneId: z.string(),
  laneState: LaneStateSchema,
  /** The lane's current worker; null before its first start. */
  worker: WorkerViewSchema.nullable(),
  summary: LaneSummarySchema,
});
export type WorkerStateResponse = z.infer<typeof WorkerStateResponseSchema>;

export const AwaitReadyResponseSchema = WorkerStateResponseSchema.extend({
  /** The worker is in `ready_for_prompt` now. */
  ready: z.boolean(),
  /** The worker's boot is decided: it is past `spawning` (ready, gated, blocked, running, or ended). */
  settled: z.boolean(),
  timedOut: z.boolean(),
});
export type AwaitReadyResponse = z.infer<typeof AwaitReadyResponseSchema>;

export const PromptResponseSchema = WorkerStateResponseSchema.extend({
  /** `delivered`: typed into the live agent; `follow_up`: a new run of the lane resuming the agent's session. */
  mode: z.enum(["delivered", "follow_up"]),
});
export type PromptResponse = z.infer<typeof PromptResponseSchema>;

/**
 * The lane's last error: its newest failure-like event unless a later attempt succeeded
 * (`lane.finished`), then null. `error.attempt` says which attempt failed; compare it with
 * `laneAttempt` (the lane's current attempt) to tell an old failure from the current one.
 */
export const LastErrorResponseSchema = z.object({
  laneId: z.string(),
  laneAttempt: z.number().int().describe("The lane's current attempt (0 before its first start)"),
  error: z
    .object({
      failureClass: FailureClassSchema.nullable(),
      /** Finer than the class when known (e.g. `auth_rejected`, `tests_failed`, `phantom_completion`). */
      failureReason: z.string().nullable(),
      message: z.string(),
      /** The attempt the error happened in (that of the newest `lane.started` before it; 0 before the first start). */
      attempt: z.number().int(),
      /** The lane event it comes from (e.g. `lane.failed`, `lane.red`, `branch.workspace_mismatch`). */
      eventType: z.string(),
      eventId: z.number().int(),
      at: z.string(),
    })
    .nullable(),
});
export type LastErrorResponse = z.infer<typeof LastErrorResponseSchema>;
