/**
 * The lane summary (docs/domain.md, "Lane summary"): a lane's event stream
 * collapsed into four short, machine-grounded facts — current phase, last successful
 * checkpoint, current blocker, recommended next action — each pointing at the event it came
 * from. Derived by server/workers/lane-summary.ts; returned by `GET /api/v1/lanes/:id/summary`
 * and as `LaneView.summary`.
 */
import { z } from "zod";
import { END_STATES, FailureClassSchema } from "./lane-state";

export const LANE_PHASES = [
  "queued",
  "booting",
  "awaiting_trust",
  "blocked",
  "ready",
  "working",
  "checking",
  ...END_STATES,
] as const;
export const LanePhaseSchema = z.enum(LANE_PHASES);
export type LanePhase = z.infer<typeof LanePhaseSchema>;

export const CHECKPOINT_KINDS = ["worker_ready", "trust_resolved", "commit", "green", "finished", "pr_opened", "merge_ready"] as const;

/**
 * What to do next. `restart_worker` and `merge_forward` are what automatic recovery does too;
 * `ask_human` means recovery gave up (the lane is escalated: `LaneView.blocked`), so neither a
 * claw nor a restart should try the same again; `fix_credentials` means the model API rejected
 * the engine's key (class `provider_auth`), which no restart fixes; `inspect_stall` means a live
 * lane has been silent for the stall threshold (`stalled`): read its output, kill it if stuck.
 */
export const NEXT_ACTIONS = [
  "wait",
  "resolve_trust",
  "answer_dialog",
  "send_prompt",
  "restart_worker",
  "merge_forward",
  "fix_and_restart",
  "fix_credentials",
  "inspect_workspace",
  "ask_human",
  "inspect_stall",
  "review_and_merge",
  "none",
] as const;
export const NextActionSchema = z.enum(NEXT_ACTIONS);
export type NextAction = z.infer<typeof NextActionSchema>;

const EventRef = { eventId: z.number().int(), at: z.string().describe("ISO 8601 time") };

export const LaneSummarySchema = z.object({
  laneId: z.string(),
  phase: LanePhaseSchema,
  /** One line about the phase, e.g. "tool Edit" or "attempt 2". */
  phaseDetail: z.string().nullable(),
  lastCheckpoint: z.object({ kind: z.enum(CHECKPOINT_KINDS), label: z.string(), ...EventRef }).nullable(),
  blocker: z
    .object({
      failureClass: FailureClassSchema.nullable(),
      /** Added (always sent; optional for older clients): finer than the class when known, e.g. `phantom_completion`, `auth_rejected`, `tests_failed` (server/checks/classify-failure.ts). */
      failureReason: z.string().nullable().optional(),
      reason: z.string(),
      ...EventRef,
    })
    .nullable(),
  nextAction: z.object({ action: NextActionSchema, label: z.string() }),
  /**
   * Added (always sent; optional for older clients): set while a live lane has had no output and
   * no event for the server's stall threshold (`lane.stalled`); null once anything happens again.
   * `since`: its last output or event.
   */
  stalled: z.object({ since: z.string(), idleMs: z.number().int(), ...EventRef }).nullable().optional(),
  /** Id of the newest event folded in (0 for none). */
  eventId: z.number().int(),
});
export type LaneSummary = z.infer<typeof LaneSummarySchema>;
