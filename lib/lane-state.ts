/**
 * Lane and worker states, and the lane's transition table.
 *
 * Lane: `queued → starting → running → checking → finished | failed`, plus `killed` and `lost`
 * from any live state, and `restart` back to `queued` from a terminal state.
 * Worker states are the worker lifecycle of docs/domain.md (diagram in docs/workers.md).
 */
import { z } from "zod";

/**
 * How a lane or its worker ends: the terminal states the two share, in this order, which are also
 * an ended lane's summary phase (lib/lane-summary.ts).
 */
export const END_STATES = ["finished", "failed", "killed", "lost"] as const;

export const LANE_STATES = ["queued", "starting", "running", "checking", ...END_STATES] as const;
export const LaneStateSchema = z.enum(LANE_STATES);
export type LaneState = z.infer<typeof LaneStateSchema>;

export const TERMINAL_LANE_STATES: ReadonlySet<LaneState> = new Set(END_STATES);
export const LIVE_LANE_STATES: ReadonlySet<LaneState> = new Set(["starting", "running", "checking"]);

/** Allowed lane transitions: from → set of to. Anything else is a bug or a stale writer. */
export const LANE_TRANSITIONS: Readonly<Record<LaneState, readonly LaneState[]>> = {
  queued: ["starting", "killed"],
  starting: ["running", "failed", "killed", "lost"],
  running: ["checking", "finished", "failed", "killed", "lost"],
  checking: ["finished", "failed", "killed", "lost"],
  finished: ["queued"],
  failed: ["queued"],
  killed: ["queued"],
  lost: ["queued"],
};

export function canTransitionLane(from: LaneState, to: LaneState): boolean {
  return LANE_TRANSITIONS[from].includes(to);
}

export const WORKER_STATES = [
  "spawning",
  "trust_required",
  "ready_for_prompt",
  "prompt_accepted",
  "running",
  "blocked",
  ...END_STATES,
] as const;
export const WorkerStateSchema = z.enum(WORKER_STATES);
export type WorkerState = z.infer<typeof WorkerStateSchema>;

export const PROCESS_STATUSES = ["starting", "running", "exited", "killed", "lost", "spawn_failed"] as const;
export const ProcessStatusSchema = z.enum(PROCESS_STATUSES);
export type ProcessStatus = z.infer<typeof ProcessStatusSchema>;

/**
 * The failure taxonomy (docs/failures.md has each class's meaning, next action and recipe).
 * `provider_auth`: the model API rejected the engine's credentials (HTTP 401/403); restarting
 * the worker cannot fix it, a person has to fix the key.
 */
export const FAILURE_CLASSES = [
  "prompt_delivery",
  "trust_gate",
  "branch_divergence",
  "compile",
  "test",
  "plugin_startup",
  "mcp_startup",
  "mcp_handshake",
  "gateway_routing",
  "tool_runtime",
  "infra",
  "provider_auth",
  "workspace_mismatch",
  "budget_exceeded",
  "killed",
  "lost",
] as const;
export const FailureClassSchema = z.enum(FAILURE_CLASSES);
export type FailureClass = z.infer<typeof FailureClassSchema>;
