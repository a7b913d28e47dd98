/**
 * Request and response shapes of the HTTP API (`/api/v1`), shared by route handlers, the
 * browser and claws. Every body is validated with these schemas at the boundary.
 */
import { z } from "zod";
import { LaneEventSchema } from "./lane-events";
import { LaneStateSchema, ProcessStatusSchema } from "./lane-state";
import { GreenLevelSchema } from "./task-packet";

export const RegisterRepoBodySchema = z.object({
  path: z.string().min(1).max(4096).describe("Absolute path of a local git work tree"),
  mainBranch: z.string().min(1).max(200).optional().describe("Override main-branch detection"),
});
export type RegisterRepoBody = z.infer<typeof RegisterRepoBodySchema>;

export const RepoViewSchema = z.object({
  id: z.string(),
  path: z.string(),
  name: z.string(),
  mainBranch: z.string(),
  createdAt: z.string(),
});
export type RepoView = z.infer<typeof RepoViewSchema>;

export const CheckResultSchema = z.object({
  level: GreenLevelSchema,
  status: z.enum(["running", "green", "red"]),
  command: z.array(z.string()),
  exitCode: z.number().int().nullable(),
  durationMs: z.number().nullable(),
  at: z.string(),
});
export type CheckResult = z.infer<typeof CheckResultSchema>;

export const LaneViewSchema = z.object({
  id: z.string(),
  repoId: z.string(),
  slug: z.string(),
  objective: z.string(),
  engine: z.string(),
  state: LaneStateSchema,
  branch: z.string(),
  baseBranch: z.string(),
  worktreePath: z.string(),
  ahead: z.number().int().nullable(),
  behind: z.number().int().nullable(),
  lastExitCode: z.number().int().nullable(),
  attempt: z.number().int(),
  checks: z.record(z.string(), CheckResultSchema),
  lastEvent: z.object({ id: z.number().int(), type: z.string(), at: z.string() }).nullable(),
  currentProcessId: z.string().nullable(),
  queuePosition: z.number().int().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type LaneView = z.infer<typeof LaneViewSchema>;

export const ProcessViewSchema = z.object({
  id: z.string(),
  laneId: z.string().nullable(),
  role: z.string(),
  command: z.array(z.string()),
  cwd: z.string(),
  env: z.record(z.string(), z.string()),
  pid: z.number().int().nullable(),
  pgid: z.number().int().nullable(),
  status: ProcessStatusSchema,
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  truncatedBytes: z.number().int(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type ProcessView = z.infer<typeof ProcessViewSchema>;

/** One line of process output. `text` is UTF-8 decoded (invalid bytes as U+FFFD); `raw` is base64 of the exact bytes when they were not valid UTF-8. */
export const LogLineSchema = z.object({
  processId: z.string(),
  stream: z.enum(["stdout", "stderr"]),
  /** Byte offset of the line's first byte in its stream's log file (logical, survives retention). */
  offset: z.number().int(),
  /** Milliseconds since the epoch when the server read the line. */
  ts: z.number(),
  text: z.string(),
  raw: z.string().optional(),
});
export type LogLine = z.infer<typeof LogLineSchema>;

export const LaneLogsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100_000).default(2000),
  processId: z.string().optional(),
});

export const LaneLogsResponseSchema = z.object({
  laneId: z.string(),
  processId: z.string().nullable(),
  lines: z.array(LogLineSchema),
  truncated: z.boolean(),
});
export type LaneLogsResponse = z.infer<typeof LaneLogsResponseSchema>;

export const EventsQuerySchema = z.object({
  after: z.coerce.number().int().min(0).default(0).describe("Cursor: return events with id > after"),
  laneId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});
export const EventsResponseSchema = z.object({
  events: z.array(LaneEventSchema),
  /** Pass as `after` to continue; equals the input cursor when there is nothing new. */
  cursor: z.number().int(),
});
export type EventsResponse = z.infer<typeof EventsResponseSchema>;

export const KillBodySchema = z.object({
  graceMs: z.number().int().min(0).max(600_000).optional().describe("SIGTERM→SIGKILL grace period in ms"),
}).default({});

export const BoardResponseSchema = z.object({
  repos: z.array(RepoViewSchema),
  lanes: z.array(LaneViewSchema),
  cursor: z.number().int().describe("Id of the newest event at the time of the snapshot"),
});
export type BoardResponse = z.infer<typeof BoardResponseSchema>;

export const ProcessLogsQuerySchema = z.object({
  stream: z.enum(["stdout", "stderr"]).default("stdout"),
  from: z.coerce.number().int().min(0).optional().describe("First byte offset (logical) to read"),
  to: z.coerce.number().int().min(0).optional().describe("Byte offset to stop before"),
  fromLine: z.coerce.number().int().min(0).optional().describe("First line number (0-based) to read, instead of a byte offset"),
  limit: z.coerce.number().int().min(1).max(100_000).default(1000).describe("Maximum lines"),
});
export type ProcessLogsQuery = z.infer<typeof ProcessLogsQuerySchema>;

export const StdinBodySchema = z.object({
  data: z.string().max(1_000_000).describe("Bytes (UTF-8) to write to the process's stdin; add \\n yourself"),
});
