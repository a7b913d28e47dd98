/**
 * The lane summary (docs/domain.md, "Lane summary"): a lane's event stream
 * collapsed into four short, machine-grounded facts — current phase, last successful
 * checkpoint, current blocker, recommended next action — each pointing at the event it came
 * from. Derived by server/workers/lane-summary.ts; returned by `GET /api/v1/lanes/:id/summary`
 * and as `LaneView.summary`.
 */
import { z } from "zod";
import { FailureClassSchema } from "./lane-state";

export const LANE_PHASES = [
  "queued",
  "booting",
  "awaiting_trust",
  "blocked",
  "ready",
  "working",
  "checking",
  "finished",
  "failed",
  "killed",
  "lost",
] as const;
export const LanePhaseSchema = z.enum(LANE_PHASES);
export type LanePhase = z.infer<typeof LanePhaseSchema>;

export const CHECKPOINT_KINDS = ["worker_ready", "trust_resolved", "commit", "green", "finished", "pr_opened", "merge_ready"] as const;

export const NEXT_ACTIONS = [
  "wait",
  "resolve_trust",
  "answer_dialog",
  "send_prompt",
  "restart_worker",
  "merge_forward",
  "fix_and_restart",
  "inspect_workspace",
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
  blocker: z.object({ failureClass: FailureClassSchema.nullable(), reason: z.string(), ...EventRef }).nullable(),
  nextAction: z.object({ action: NextActionSchema, label: z.string() }),
  /** Id of the newest event folded in (0 for none). */
  eventId: z.number().int(),
});
export type LaneSummary = z.infer<typeof LaneSummarySchema>;
