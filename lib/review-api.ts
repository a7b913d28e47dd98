/**
 * Shapes of the review API: a lane's diff against its base (the list of files, then one file's
 * patch at a time), the cleanup after a merge, and the lane's attempts. Shared by the route
 * handlers and the browser, validated at both ends.
 *
 * | verb and path | body / query → response |
 * | --- | --- |
 * | `GET /api/v1/lanes/:id/diff` | → {@link LaneDiff} |
 * | `GET /api/v1/lanes/:id/diff/file?path=` | → {@link LaneDiffFile} |
 * | `POST /api/v1/lanes/:id/cleanup` | `{ deleteBranch? }` → {@link CleanupResult} |
 * | `GET /api/v1/lanes/:id/attempts` | → {@link LaneAttempts} |
 */
import { z } from "zod";
import { CheckRunViewSchema, ProcessViewSchema } from "./api";
import { LaneEventSchema } from "./lane-events";
import { WorkerStateSchema } from "./lane-state";

export const DiffFileSchema = z.object({
  path: z.string().describe("Path on the new side (the old path for a deleted file)"),
  oldPath: z.string().nullable().describe("Path on the old side for a rename or copy"),
  status: z.enum(["added", "modified", "deleted", "renamed", "copied", "type_changed"]),
  additions: z.number().int().nullable().describe("Added lines; null for a binary file"),
  deletions: z.number().int().nullable(),
  binary: z.boolean(),
});
export type DiffFile = z.infer<typeof DiffFileSchema>;

export const LaneDiffSchema = z.object({
  laneId: z.string(),
  branch: z.string(),
  baseBranch: z.string(),
  /** The merge base of the branch and its base: the diff's old side. */
  baseSha: z.string(),
  /** The branch head: the diff's new side. */
  head: z.string(),
  files: z.array(DiffFileSchema),
  additions: z.number().int(),
  deletions: z.number().int(),
});
export type LaneDiff = z.infer<typeof LaneDiffSchema>;

export const LaneDiffFileQuerySchema = z.object({
  path: z.string().min(1).max(4096).describe("A path listed by GET …/diff"),
  /** The commits the list was read at, so the patch matches what the person sees even if the branch moved. */
  base: z.string().regex(/^[0-9a-f]{40,64}$/).optional(),
  head: z.string().regex(/^[0-9a-f]{40,64}$/).optional(),
});

export const LaneDiffFileSchema = z.object({
  laneId: z.string(),
  path: z.string(),
  baseSha: z.string(),
  head: z.string(),
  /** git's unified diff of this file (starting at `diff --git`); empty when only the mode changed. */
  patch: z.string(),
  /** The patch was cut (very large file): the rest is not shown. */
  truncated: z.boolean(),
});
export type LaneDiffFile = z.infer<typeof LaneDiffFileSchema>;

export const CleanupBodySchema = z
  .object({ deleteBranch: z.boolean().default(true).describe("Also delete the lane's branch (it is merged)") })
  .default({ deleteBranch: true });

export const CleanupResultSchema = z.object({ laneId: z.string(), worktreeRemoved: z.boolean(), branchDeleted: z.boolean() });
export type CleanupResult = z.infer<typeof CleanupResultSchema>;

/** One process of an attempt (worker or check) with how it ended. */
export const AttemptProcessSchema = ProcessViewSchema.pick({
  id: true,
  role: true,
  command: true,
  status: true,
  exitCode: true,
  signal: true,
  truncatedBytes: true,
  startedAt: true,
  endedAt: true,
});
export type AttemptProcess = z.infer<typeof AttemptProcessSchema>;

/** Token totals and cost (USD, null when no engine reported one) of one or more workers. */
const UsageTotalsSchema = z.object({ inputTokens: z.number(), outputTokens: z.number(), costUsd: z.number().nullable() });

/** One run of a lane: from a start (or restart / follow-up) to the next. */
export const AttemptSchema = z.object({
  attempt: z.number().int(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  workerId: z.string().nullable(),
  workerState: WorkerStateSchema.nullable(),
  processes: z.array(AttemptProcessSchema),
  /** Check runs of this attempt (from its `check.started` / `lane.green` / `lane.red` events). */
  checks: z.array(CheckRunViewSchema.pick({ level: true, status: true, exitCode: true, durationMs: true, processId: true }).extend({ argv: z.array(z.string()) })),
  /** Token totals and cost of the attempt's worker (null when the engine reports none). */
  usage: UsageTotalsSchema.nullable(),
  /** Id range of the attempt's events: `firstEventId <= id < nextEventId` (nextEventId null for the last). */
  firstEventId: z.number().int(),
  nextEventId: z.number().int().nullable(),
});
export type Attempt = z.infer<typeof AttemptSchema>;

export const LaneAttemptsSchema = z.object({
  laneId: z.string(),
  attempts: z.array(AttemptSchema),
  /** Usage of all attempts together, and of every lane of the lane's repo. */
  usage: UsageTotalsSchema,
  repoUsage: UsageTotalsSchema.extend({ lanes: z.number().int() }),
});
export type LaneAttempts = z.infer<typeof LaneAttemptsSchema>;

/** Events of a lane, for the attempts view; re-exported so the browser imports one module. */
export { LaneEventSchema };
