/**
 * `GET /api/v1/lanes/:id/await?state=<targets>&timeout=<s>` (or `timeoutMs=<ms>`): a long poll
 * that answers as soon as the lane is in one of the asked states, so a claw never polls.
 *
 * Targets (`state`, one or more, comma-separated; the answer says which held):
 * | target | holds when |
 * | --- | --- |
 * | `queued`, `starting`, `running`, `checking` | the lane is in that state |
 * | `finished`, `failed`, `killed`, `lost` | the lane is in that state and its closing event (`lane.finished` / `lane.failed` / `lane.killed`) is recorded, so summary and last error already tell why |
 * | `ended` | any of the four above |
 * | `spawning`, `trust_required`, `prompt_accepted`, `blocked` | the current attempt's worker is in that state (`blocked`: at a dialog; an escalated lane is `LaneView.blocked`, awaited as `failed`/`ended`) |
 * | `ready_for_prompt` | a prompt sent now is accepted (`worker.acceptsPrompt`; `worker.promptMode` says delivered or follow-up) |
 * | `stalled` | the summary flags the lane stalled (no output and no event for the stall threshold) |
 * Names that are both a lane and a worker state (`running`, `finished`, …) mean the lane's.
 *
 * Outcome: `reached` (`matched` lists the targets that hold), `timeout` (none held within the
 * timeout: 200, not an error), or `ended` (the lane ended in a state not asked for, so waiting
 * cannot help unless it is restarted; automatic recovery may still restart it: await again to
 * follow the next attempt). Every answer carries the lane's full view.
 */
import { z } from "zod";
import { LaneViewSchema } from "./api";
import { LANE_STATES } from "./lane-state";

/** Worker states that can be awaited (those that are not also lane states). */
export const AWAIT_WORKER_STATES = ["spawning", "trust_required", "ready_for_prompt", "prompt_accepted", "blocked"] as const;
/** Conditions beyond a single state. */
export const AWAIT_CONDITIONS = ["ended", "stalled"] as const;
export const AWAIT_TARGETS = [...LANE_STATES, ...AWAIT_WORKER_STATES, ...AWAIT_CONDITIONS] as const;
export const AwaitTargetSchema = z.enum(AWAIT_TARGETS);
export type AwaitTarget = z.infer<typeof AwaitTargetSchema>;

/** Longest wait of one call (ms): below common proxy and client idle timeouts. Loop for longer. */
export const MAX_AWAIT_MS = 120_000;
export const DEFAULT_AWAIT_MS = 30_000;

export const AwaitLaneQuerySchema = z
  .object({
    state: z
      .string()
      .transform((s) => [...new Set(s.split(",").map((t) => t.trim()).filter(Boolean))])
      .pipe(z.array(AwaitTargetSchema).min(1, "name at least one state"))
      .describe(`Comma-separated targets: ${AWAIT_TARGETS.join(", ")}`),
    timeout: z.coerce.number().min(0).max(MAX_AWAIT_MS / 1000).optional().describe("Longest wait in seconds (decimals allowed); default 30"),
    timeoutMs: z.coerce.number().int().min(0).max(MAX_AWAIT_MS).optional().describe("Longest wait in ms, instead of `timeout`"),
  })
  .refine((q) => q.timeout === undefined || q.timeoutMs === undefined, { message: "give timeout (seconds) or timeoutMs, not both", path: ["timeout"] })
  .transform((q) => ({ targets: q.state, timeoutMs: q.timeoutMs ?? (q.timeout !== undefined ? Math.round(q.timeout * 1000) : DEFAULT_AWAIT_MS) }));
export type AwaitLaneQuery = z.output<typeof AwaitLaneQuerySchema>;

export const AWAIT_OUTCOMES = ["reached", "timeout", "ended"] as const;

export const AwaitLaneResponseSchema = z.object({
  laneId: z.string(),
  outcome: z.enum(AWAIT_OUTCOMES),
  /** The asked targets that hold now (empty unless `reached`). */
  matched: z.array(AwaitTargetSchema),
  /** How long the call waited (ms). */
  waitedMs: z.number().int().min(0),
  /** The lane as it is at the answer: state, worker (`acceptsPrompt`), summary (`stalled`, `nextAction`), `blocked`. */
  lane: LaneViewSchema,
});
export type AwaitLaneResponse = z.infer<typeof AwaitLaneResponseSchema>;
