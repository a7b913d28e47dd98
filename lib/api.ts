/**
 * Request and response shapes of the HTTP API (`/api/v1`), shared by route handlers, the
 * browser and claws. Every body is validated with these schemas at the boundary.
 */
import { z } from "zod";
import { LANE_EVENT_TYPES, LaneEventSchema, TestCountsSchema, type LaneEventType } from "./lane-events";
import { FailureClassSchema, LaneStateSchema, ProcessStatusSchema } from "./lane-state";
import { LaneSummarySchema } from "./lane-summary";
import { LaneScheduleViewSchema, WaitReasonSchema } from "./scheduling";
import { GreenLevelSchema } from "./task-packet";
import { WorkerViewSchema } from "./worker-state";
import { pageOf, PageQuerySchema } from "./paging";

/**
 * A repo path as a caller may send it: absolute (a relative path would be resolved against the
 * server's working directory, which the caller did not choose) and without NUL bytes (no file
 * system call takes one). The server also refuses `/proc`, `/sys` and `/dev` (server/git/repo.ts).
 */
export const RepoPathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes("\0"), "must not contain a NUL byte")
  .refine((p) => p.startsWith("/"), "must be an absolute path (a relative path is not resolved against the server's directory)");

export const RegisterRepoBodySchema = z.object({
  path: RepoPathSchema.describe("Absolute path of a local git work tree"),
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

/** `GET /api/v1/repos?limit=&cursor=` → one page of repos in registration order (lib/paging.ts). */
export const RepoListQuerySchema = PageQuerySchema;
export const RepoPageSchema = pageOf(RepoViewSchema);

/** Where a check stands: still running, passed (green) or failed (red); a level's roll-up uses the same words. */
export const CHECK_STATUSES = ["running", "green", "red"] as const;
export const CheckStatusSchema = z.enum(CHECK_STATUSES);
export type CheckStatus = z.infer<typeof CheckStatusSchema>;

export const CheckResultSchema = z.object({
  level: GreenLevelSchema,
  status: CheckStatusSchema,
  command: z.array(z.string()),
  exitCode: z.number().int().nullable(),
  durationMs: z.number().nullable(),
  at: z.string(),
  /** Added (optional): counts read from the check's output; null when no known summary was printed. */
  tests: TestCountsSchema.nullable().optional(),
  /** Added (optional): for a red check, its failure class and one-line summary. */
  failureClass: FailureClassSchema.nullable().optional(),
  summary: z.string().nullable().optional(),
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
  /** Runs started so far (0 while first queued); a restart counts once its run starts. */
  attempt: z.number().int(),
  /** The node that runs (or last ran) the lane (several servers on one PostgreSQL database: docs/scale-out.md); null until it starts. */
  nodeId: z.string().nullable(),
  checks: z.record(z.string(), CheckResultSchema),
  lastEvent: z.object({ id: z.number().int(), type: z.string(), at: z.string() }).nullable(),
  currentProcessId: z.string().nullable(),
  queuePosition: z.number().int().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  /** Added (optional): phase, last checkpoint, blocker and next action, derived from the lane's events. */
  summary: LaneSummarySchema.optional(),
  /** Added (optional): the lane's current (latest) worker; null before the first start. */
  worker: WorkerViewSchema.nullable().optional(),
  /** Added (optional): why a queued lane waits (which cap, dependency, budget, rate limit); null when not queued. */
  waitingFor: WaitReasonSchema.nullable().optional(),
  /** Added (optional): scheduling settings (pool, priority, deadline, dependencies, budget) and usage. */
  schedule: LaneScheduleViewSchema.optional(),
  /**
   * Optional (older clients ignore it): set when automatic recovery gave up (`lane.escalated`) and a human
   * must act; cleared by a restart or a merge.
   */
  blocked: z.object({ reason: z.string(), failureClass: FailureClassSchema, eventId: z.number().int(), at: z.string() }).nullable().optional(),
  /** Optional: the base branch has moved since the lane started. */
  baseMoved: z.boolean().nullable().optional(),
  /** Optional: merge readiness as last evaluated (null: not evaluated), and whether the lane has been merged. */
  mergeReady: z.boolean().nullable().optional(),
  merged: z.boolean().optional(),
});
export type LaneView = z.infer<typeof LaneViewSchema>;

/** `GET /api/v1/lanes?repoId=&limit=&cursor=` → one page of lanes in creation order (lib/paging.ts). */
/** At most this many ids in `GET /api/v1/lanes?ids=`. */
export const MAX_LANE_IDS = 100;
export const LaneListQuerySchema = PageQuerySchema.extend({
  repoId: z.string().min(1).optional().describe("Only this repo's lanes"),
  ids: z
    .string()
    .min(1)
    .max(MAX_LANE_IDS * 64)
    .transform((v) => v.split(","))
    .pipe(z.array(z.string().min(1).max(63)).max(MAX_LANE_IDS))
    .optional()
    .describe(`Only these lanes (comma-separated ids, at most ${MAX_LANE_IDS}); unknown ids are left out. What a board refreshes after lane events instead of the whole board.`),
});
export const LanePageSchema = pageOf(LaneViewSchema);

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
  /**
   * The line's run: the number of the stretch of one stream's output the server read before it
   * read the other stream of the process (0, 1, 2, … per process; -1 for output read before runs
   * were recorded). One process's stdout and stderr lines are in order by (seq, offset); see
   * lib/log-order.ts.
   */
  seq: z.number().int(),
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

/** `types=a,b`: event types from the catalog (lib/lane-events.ts), comma-separated. */
const EventTypesParamSchema = z
  .string()
  .transform((v) => v.split(",").map((t) => t.trim()).filter(Boolean))
  .pipe(z.array(z.enum(LANE_EVENT_TYPES as [LaneEventType, ...LaneEventType[]])).max(100))
  .describe("Only these event types, comma-separated (e.g. lane.finished,lane.failed)");

/** Filters shared by the event list and the event stream. */
const EventFilterQuery = {
  laneId: z.string().max(200).optional().describe("Only this lane's events"),
  repoId: z.string().max(200).optional().describe("Only events of this repo's lanes"),
  types: EventTypesParamSchema.optional(),
};

export const EventsQuerySchema = z.object({
  after: z.coerce.number().int().min(0).default(0).describe("Cursor: return events with id > after, oldest first"),
  before: z.coerce.number().int().min(1).optional().describe("Newest first: events with id < before (use with order=desc to start at the newest)"),
  order: z.enum(["asc", "desc"]).optional().describe("desc: newest first (implied by before)"),
  ...EventFilterQuery,
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});
export type EventsQuery = z.infer<typeof EventsQuerySchema>;

export const EventsResponseSchema = z.object({
  events: z.array(LaneEventSchema),
  /** Pass as `after` to continue; equals the input cursor when there is nothing new. Newest first: the newest id on the page (or `after`). */
  cursor: z.number().int(),
  /** Newest first only: pass as `before` for the next older page; null when this page reached the oldest. */
  before: z.number().int().nullable().optional(),
});
export type EventsResponse = z.infer<typeof EventsResponseSchema>;

/** `GET /api/v1/events/stream`: server-sent events from a cursor (`Last-Event-ID` wins over `after`). */
export const EventStreamQuerySchema = z.object({
  after: z.coerce.number().int().min(0).optional().describe("Cursor: stream events with id > after (default: only new events)"),
  ...EventFilterQuery,
  heartbeatMs: z.coerce.number().int().min(1000).max(120_000).default(15_000).describe("Interval of `: ping` comment lines, ms"),
});

/** `GET /api/v1/processes/:id/logs/stream`: one stream's lines from a byte offset, then live ones. */
export const ProcessLogStreamQuerySchema = z.object({
  stream: z.enum(["stdout", "stderr"]).default("stdout"),
  from: z.coerce.number().int().min(0).optional().describe("Byte offset to start at (default 0); Last-Event-ID wins"),
  heartbeatMs: z.coerce.number().int().min(1000).max(120_000).default(15_000),
});

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

/** The answer of a call that did what it was asked and has nothing else to say (`POST …/stdin`). */
export const OkResponseSchema = z.object({ ok: z.literal(true) });
export type OkResponse = z.infer<typeof OkResponseSchema>;

// ---- Freshness, checks, merge and policy ----

const ShaSubjectSchema = z.object({ sha: z.string(), subject: z.string() });

/** `GET /api/v1/lanes/:id/freshness`: the lane's branch against its base, computed on request. */
export const LaneFreshnessSchema = z.object({
  laneId: z.string(),
  branch: z.string(),
  baseBranch: z.string(),
  /** Base head when the lane started (its worktree was created from it). */
  baseSha: z.string().nullable(),
  /** Base head now; null when the base branch is missing. */
  baseHead: z.string().nullable(),
  baseMoved: z.boolean().nullable(),
  /** Lane branch head now; null when the branch is missing. */
  head: z.string().nullable(),
  ahead: z.number().int().nullable(),
  behind: z.number().int().nullable(),
  stale: z.boolean(),
  /** Base commits the lane is missing, newest first, at most 50 (`git log <branch>..<base>`). */
  missing: z.array(ShaSubjectSchema),
  /** The worktree: on its branch, detached, missing, … */
  worktree: z.enum(["ok", "missing", "not_a_worktree", "detached", "wrong_branch"]),
  problem: z.object({ problem: z.string(), failureClass: FailureClassSchema, message: z.string() }).nullable(),
  checkedAt: z.string(),
});
export type LaneFreshness = z.infer<typeof LaneFreshnessSchema>;

/** One acceptance check run as recorded on the lane. */
export const CheckRunViewSchema = z.object({
  index: z.number().int(),
  level: GreenLevelSchema,
  argv: z.array(z.string()),
  status: CheckStatusSchema,
  processId: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  durationMs: z.number().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  tests: TestCountsSchema.nullable().optional(),
  failure: z
    .object({ failureClass: FailureClassSchema, reason: z.string(), summary: z.string(), evidence: z.array(z.string()) })
    .nullable()
    .optional(),
  timedOut: z.boolean().optional(),
  stale: z.boolean().optional(),
  /** Which round of the lane's checks (a merge-forward or recovery reruns them). */
  round: z.number().int().optional(),
});
export type CheckRunView = z.infer<typeof CheckRunViewSchema>;

/** `GET /api/v1/lanes/:id/checks`. */
export const LaneChecksResponseSchema = z.object({
  laneId: z.string(),
  runs: z.array(CheckRunViewSchema),
  levels: z.record(z.string(), CheckResultSchema),
});
export type LaneChecksResponse = z.infer<typeof LaneChecksResponseSchema>;

export const MERGE_STRATEGIES = ["ff", "merge", "squash"] as const;
export const MergeStrategySchema = z.enum(MERGE_STRATEGIES);
export type MergeStrategy = z.infer<typeof MergeStrategySchema>;

/** `POST /api/v1/lanes/:id/merge`. */
export const MergeBodySchema = z
  .object({
    strategy: MergeStrategySchema.optional().describe("ff, merge (a merge commit) or squash; default: the packet's, else the repo policy's, else merge"),
    cleanup: z.boolean().optional().describe("Remove the worktree and delete the branch afterwards; default: the repo policy"),
    force: z.boolean().default(false).describe("Merge even if the lane is not green at its required level (never past a conflict)"),
  })
  .default({ force: false });
export type MergeBody = z.infer<typeof MergeBodySchema>;

/** `GET /api/v1/lanes/:id/merge`: merge readiness, computed on request. */
export const MergeReadinessSchema = z.object({
  laneId: z.string(),
  ready: z.boolean(),
  reasons: z.array(z.enum(["not_green", "stale", "conflict", "live", "no_branch", "problem"])),
  level: GreenLevelSchema,
  green: z.array(GreenLevelSchema),
  behind: z.number().int().nullable(),
  conflicts: z.array(z.string()),
  head: z.string().nullable(),
  baseHead: z.string().nullable(),
  fastForward: z.boolean(),
  merged: z.boolean(),
  message: z.string(),
});
export type MergeReadiness = z.infer<typeof MergeReadinessSchema>;

export const MergeResultSchema = z.object({
  laneId: z.string(),
  strategy: MergeStrategySchema,
  baseBranch: z.string(),
  previous: z.string(),
  sha: z.string(),
  updatedWorktree: z.string().nullable(),
  cleanedUp: z.boolean(),
});
export type MergeResult = z.infer<typeof MergeResultSchema>;

/** `GET /api/v1/repos/:id/policy`. Rules are returned as validated data (server/policy/policy-schema.ts). */
export const PolicyViewSchema = z.object({
  repoId: z.string(),
  source: z.enum(["defaults", "file", "api"]),
  /** The policy file in the repo, when one exists (`.laneboard/policy.yaml|yml|json`). */
  file: z.string().nullable(),
  /** The accepted text in force; null for the defaults. */
  text: z.string().nullable(),
  rules: z.array(z.object({ id: z.string(), description: z.string(), when: z.record(z.string(), z.unknown()), then: z.record(z.string(), z.unknown()) })),
  updatedAt: z.string().nullable(),
  /** The repo's post-checkout hook runs when a lane's worktree is made (`git.runCheckoutHook` in a policy set through the API). */
  runCheckoutHook: z.boolean(),
});
export type PolicyView = z.infer<typeof PolicyViewSchema>;

/** `PUT /api/v1/repos/:id/policy` as JSON: the policy text (YAML or JSON), or the rules as data. */
export const PolicyPutBodySchema = z.union([
  z.object({ text: z.string().max(256 * 1024) }).strict(),
  z
    .object({
      rules: z.array(z.unknown()).max(500),
      includeDefaults: z.boolean().optional(),
      git: z.object({ runCheckoutHook: z.boolean() }).strict().optional().describe("What Laneboard's git calls may run of the repo's code (default: nothing)"),
    })
    .strict(),
]);
export type PolicyPutBody = z.infer<typeof PolicyPutBodySchema>;

/** `PUT /api/v1/repos/:id/policy`: the JSON forms, or the policy text itself (sent as YAML or JSON text, or as a JSON string). */
export const PolicyPutRequestSchema = z.union([z.string().max(256 * 1024), PolicyPutBodySchema]);
