/**
 * What server and clients share about a lane's worker: its view (state, session, usage, last
 * error). The states themselves are `WORKER_STATES` in ./lane-state.ts; the transition table
 * lives in server/workers/worker-state-machine.ts (diagram: docs/workers.md).
 */
import { z } from "zod";
import { FailureClassSchema, WorkerStateSchema } from "./lane-state";

/** Running totals of one worker run. Tokens include cache reads/writes; `costUsd` only when the engine knows a price. */
export const WorkerUsageSchema = z.object({
  inputTokens: z.number().min(0),
  outputTokens: z.number().min(0),
  costUsd: z.number().min(0).nullable(),
});
export type WorkerUsage = z.infer<typeof WorkerUsageSchema>;

/** The last failure a worker reported or caused, machine-classified. */
export const WorkerErrorSchema = z.object({
  failureClass: FailureClassSchema,
  message: z.string(),
  at: z.string().describe("ISO 8601 time"),
});
export type WorkerError = z.infer<typeof WorkerErrorSchema>;

export const WorkerViewSchema = z.object({
  id: z.string(),
  laneId: z.string(),
  engine: z.string(),
  state: WorkerStateSchema,
  /** Bumped on every state write (guarded persistence). */
  stateVersion: z.number().int(),
  attempt: z.number().int(),
  processId: z.string().nullable(),
  /** The agent's own session id (Claude Code `session_id`, Codex `thread_id`), used for follow-ups. */
  sessionId: z.string().nullable(),
  /** How many times the current prompt was delivered (2 = replayed once after a misdelivery). */
  promptDeliveries: z.number().int(),
  usage: WorkerUsageSchema.nullable(),
  lastError: WorkerErrorSchema.nullable(),
  /**
   * Added (always sent; optional for older clients): a prompt sent now
   * (`POST /api/v1/lanes/:id/worker/prompt`) is accepted. A headless agent
   * (claude, codex, anthropic without `mode: interactive`) takes its prompt at start: false while
   * it runs, true once its run ended if its session can be resumed.
   */
  acceptsPrompt: z.boolean().optional(),
  /** Added (always sent): how it would be taken: typed into the live agent, or a follow-up run resuming its session; null when refused. */
  promptMode: z.enum(["delivered", "follow_up"]).nullable().optional(),
  readyAt: z.string().nullable(),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
});
export type WorkerView = z.infer<typeof WorkerViewSchema>;
