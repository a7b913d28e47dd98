/**
 * The lane event catalog: one zod discriminated union shared by server and client. Every state
 * change is appended as a LaneEvent row (its integer id is the cursor) and pushed over
 * Socket.IO as `lane:event`. Names follow docs/domain.md ("Lane events").
 *
 * Versioning: `v` is the catalog version. Changes are additive (new types, new optional
 * fields); a breaking payload change bumps `v` and keeps the old shape parseable.
 */
import { z } from "zod";
import { FailureClassSchema, LaneStateSchema, WorkerStateSchema } from "./lane-state";
import { GreenLevelSchema } from "./task-packet";
import { BudgetSchema, CapsConfigSchema, PoolSchema, RateLimitSchema, RepoBudgetSchema, WaitReasonSchema } from "./scheduling";

export const LANE_EVENT_VERSION = 1 as const;

const ExitSchema = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
});

/** Pass/fail/skip counts read from a check's output (server/checks/test-summary.ts). Added in v1. */
export const TestCountsSchema = z.object({
  format: z.string().describe("tap | junit | node-test | vitest | jest | mocha | pytest | go | cargo"),
  passed: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  total: z.number().int(),
});
export type TestCounts = z.infer<typeof TestCountsSchema>;

/** A commit the lane is missing from its base, for freshness events. */
const MissingCommitSchema = z.object({ sha: z.string(), subject: z.string() });

/** Freshness details added in v1 (optional) to `branch.freshness` and `branch.stale_against_main`. */
const FreshnessExtra = {
  /** Base head when the lane started, and now. */
  baseSha: z.string().nullable().optional(),
  baseHead: z.string().optional(),
  /** The base branch has moved since the lane started. */
  baseMoved: z.boolean().optional(),
  /** Newest first, at most 20. */
  missing: z.array(MissingCommitSchema).optional(),
  /** What noticed it: `watch`, `poll`, `lane`, `before_check`. */
  trigger: z.string().optional(),
};

/** Classification of a failure (server/checks/classify-failure.ts), added in v1 (optional). */
const FailureExtra = {
  /** Stable key finer than the class, e.g. `tests_failed`, `typescript`, `timed_out`. */
  failureReason: z.string().optional(),
  summary: z.string().optional(),
  /** The output lines that decided the class. */
  evidence: z.array(z.string()).optional(),
};

/** Payload schemas keyed by event type. */
export const LANE_EVENT_PAYLOADS = {
  "repo.registered": z.object({ path: z.string(), name: z.string(), mainBranch: z.string() }),
  "lane.created": z.object({ objective: z.string(), branch: z.string(), baseBranch: z.string(), engine: z.string(), worktreePath: z.string() }),
  "lane.queued": z.object({
    reason: z.string(),
    position: z.number().int().nullable(),
    /** Added in v1 (optional): why it waits, machine-readable (lib/scheduling.ts). */
    waitingFor: WaitReasonSchema.optional(),
  }),
  "lane.state_changed": z.object({ from: LaneStateSchema, to: LaneStateSchema }),
  "lane.started": z.object({ workerId: z.string(), processId: z.string(), pid: z.number().int(), attempt: z.number().int() }),
  "lane.ready": z.object({ workerId: z.string() }),
  "lane.prompt_misdelivery": z.object({ workerId: z.string(), evidence: z.string() }),
  "lane.blocked": z.object({
    reason: z.string(),
    failureClass: FailureClassSchema.optional(),
    /** Added in v1 (optional): the dependency whose failure blocks this queued lane. */
    dependency: z.string().optional(),
  }),
  "lane.red": z.object({
    level: GreenLevelSchema,
    command: z.array(z.string()),
    exitCode: z.number().int().nullable(),
    durationMs: z.number(),
    failureClass: FailureClassSchema,
    /** Added in v1 (optional): classification, counts, and whether the branch was behind its base. */
    ...FailureExtra,
    tests: TestCountsSchema.nullable().optional(),
    stale: z.boolean().optional(),
    timedOut: z.boolean().optional(),
  }),
  "lane.green": z.object({
    level: GreenLevelSchema,
    command: z.array(z.string()),
    durationMs: z.number(),
    /** Added in v1 (optional). */
    tests: TestCountsSchema.nullable().optional(),
  }),
  "lane.commit.created": z.object({
    sha: z.string(),
    subject: z.string(),
    branch: z.string(),
    /** Provenance, added in v1 (optional). */
    worktree: z.string().optional(),
    author: z.string().optional(),
    parents: z.array(z.string()).optional(),
    files: z.array(z.string()).optional(),
    filesChanged: z.number().int().optional(),
    /** Earlier commits of the lane this one replaces (same patch id after a rebase or amend). */
    supersedes: z.array(z.string()).optional(),
    /** The branch was rewritten: its previous head is no longer an ancestor. */
    rewrite: z.boolean().optional(),
  }),
  "lane.pr.opened": z.object({ url: z.string() }),
  "lane.merge.ready": z.object({
    sha: z.string(),
    /** Added in v1 (optional). */
    baseBranch: z.string().optional(),
    baseHead: z.string().optional(),
    level: GreenLevelSchema.optional(),
    fastForward: z.boolean().optional(),
  }),
  /** Not merge-ready, and why (added in v1). */
  "lane.merge.blocked": z.object({
    reasons: z.array(z.enum(["not_green", "stale", "conflict", "live", "no_branch", "problem"])),
    level: GreenLevelSchema,
    conflicts: z.array(z.string()),
    message: z.string(),
  }),
  /** The lane landed on its base branch (added in v1). */
  "lane.merged": z.object({
    strategy: z.enum(["ff", "merge", "squash"]),
    baseBranch: z.string(),
    previous: z.string(),
    sha: z.string(),
    by: z.string(),
    updatedWorktree: z.string().nullable(),
  }),
  /** The lane's worktree (and branch) were removed (added in v1). */
  "lane.cleaned_up": z.object({ worktreeRemoved: z.boolean(), branchDeleted: z.boolean(), by: z.string() }),
  "lane.finished": ExitSchema,
  "lane.failed": ExitSchema.extend({
    failureClass: FailureClassSchema,
    reason: z.string(),
    /** Added in v1 (optional): classification, and whether the worker or a check failed. */
    ...FailureExtra,
    role: z.enum(["worker", "check"]).optional(),
  }),
  "lane.killed": z.object({ by: z.string(), signal: z.string().nullable(), graceMs: z.number() }),
  "lane.restarted": z.object({ attempt: z.number().int(), by: z.string() }),
  "lane.recovery.attempted": z.object({
    recipe: z.string(),
    failureClass: FailureClassSchema,
    /** Added in v1 (optional): the recipe key, its action and steps, and what was done. */
    key: z.string().optional(),
    action: z.string().optional(),
    steps: z.array(z.string()).optional(),
    detail: z.string().optional(),
  }),
  "lane.escalated": z.object({
    reason: z.string(),
    failureClass: FailureClassSchema,
    evidence: z.array(z.string()),
    /** Added in v1 (optional): the recipe that was tried before, if any. */
    recipe: z.string().nullable().optional(),
    failureReason: z.string().optional(),
  }),
  "branch.stale_against_main": z.object({ ahead: z.number().int(), behind: z.number().int(), baseBranch: z.string(), ...FreshnessExtra }),
  "branch.freshness": z.object({ ahead: z.number().int(), behind: z.number().int(), baseBranch: z.string(), ...FreshnessExtra }),
  /** The base branch was merged into the lane's branch (or the branch rebased onto it) in its worktree (added in v1). */
  "branch.merged_forward": z.object({
    method: z.enum(["merge", "rebase"]),
    baseBranch: z.string(),
    baseSha: z.string(),
    previous: z.string(),
    head: z.string(),
    fastForward: z.boolean(),
    by: z.string().describe("policy rule id or recovery recipe"),
  }),
  /** The lane's branch conflicts with its base (added in v1). */
  "branch.conflict": z.object({ baseBranch: z.string(), files: z.array(z.string()), during: z.enum(["merge_forward", "rebase", "merge_check", "merge", "dependency_merge"]), evidence: z.array(z.string()) }),
  /** Something is wrong with the lane's branch or worktree outside its code (server/git/problems.ts), added in v1. */
  "branch.problem": z.object({ problem: z.string(), failureClass: FailureClassSchema, message: z.string(), evidence: z.array(z.string()), operation: z.string() }),
  "branch.workspace_mismatch": z.object({
    expected: z.string(),
    actual: z.string(),
    /** Added in v1 (optional): the worker, and what reported the path (`cwd`, `tool:<name>`). */
    workerId: z.string().optional(),
    source: z.string().optional(),
  }),
  "worker.state_changed": z.object({
    workerId: z.string(),
    from: WorkerStateSchema.nullable(),
    to: WorkerStateSchema,
    /** Added in v1 (optional): the state-machine event that caused it (server/workers/worker-state-machine.ts). */
    trigger: z.string().optional(),
  }),
  /** Compacted agent activity: tool calls, failed tool results and the final message (not every line). */
  "worker.activity": z.object({
    workerId: z.string(),
    kind: z.enum(["tool_use", "tool_error", "final_message"]),
    name: z.string().optional(),
    detail: z.string(),
    /** tool_use activities left out since the previous activity event (throttling). */
    skipped: z.number().int().min(0).optional(),
  }),
  /**
   * A prompt reached the worker (added in v1): the packet's at start, a person's or claw's, a
   * follow-up that started this attempt, or a replay after a misdelivery. `text` is at most
   * 4,000 characters (`truncated` when cut).
   */
  "worker.prompted": z.object({
    workerId: z.string(),
    text: z.string(),
    source: z.enum(["packet", "api", "follow_up", "replay"]),
    truncated: z.boolean().optional(),
  }),
  /** Running token and cost totals of a worker's run (latest wins; throttled). */
  "worker.usage": z.object({ workerId: z.string(), inputTokens: z.number().min(0), outputTokens: z.number().min(0), costUsd: z.number().nullable() }),
  /**
   * A lane with dependencies was brought up to date as its worker started (added in v1): its
   * branch moved to the base branch's head at that moment (`baseSha`, was `previousBaseSha`) and
   * the branches of the dependencies that succeeded were merged in (`merged`); `head` is where
   * the worker starts.
   */
  "lane.worktree_prepared": z.object({
    baseBranch: z.string(),
    baseSha: z.string(),
    previousBaseSha: z.string().nullable(),
    head: z.string(),
    merged: z.array(z.object({ laneId: z.string(), branch: z.string(), sha: z.string() })),
  }),
  /**
   * A live lane had no output and no event for `thresholdMs` (the server's `--stall-after-ms`),
   * while its worker was not waiting for a person: it may be stuck (added in v1).
   */
  "lane.stalled": z.object({ idleMs: z.number().int().min(0), since: z.string().describe("ISO 8601: the last output or event"), thresholdMs: z.number().int().min(1) }),
  /** Output or an event came again after `lane.stalled`; `idleMs` is how long it was quiet (added in v1). */
  "lane.stall_ended": z.object({ idleMs: z.number().int().min(0) }),
  /** The worker reported success but the branch has no commit and the worktree no change against the base. */
  "lane.phantom_completion": z.object({ workerId: z.string(), baseSha: z.string(), head: z.string() }),
  "trust_required": z.object({ workerId: z.string(), path: z.string() }),
  "trust_resolved": z.object({ workerId: z.string(), by: z.string() }),
  "process.started": z.object({ processId: z.string(), role: z.string(), pid: z.number().int(), pgid: z.number().int(), command: z.array(z.string()) }),
  "process.exited": ExitSchema.extend({
    processId: z.string(),
    role: z.string(),
    wrapperDied: z.boolean().optional().describe("the supervising wrapper was killed and left no exit status; the command was stopped"),
    leftovers: z.number().int().optional().describe("processes still running after the wrapper ended, stopped by the supervisor"),
    oomKilled: z.string().optional().describe("the SIGKILL came from the OOM killer: the evidence (cgroup counter or kernel log)"),
  }),
  "process.lost": z.object({
    processId: z.string(),
    reason: z.string(),
    leftovers: z.number().int().optional().describe("processes it had started that still ran, stopped by the supervisor"),
  }),
  "process.reattached": z.object({ processId: z.string(), pid: z.number().int() }),
  "process.output_truncated": z.object({ processId: z.string(), bytes: z.number().int() }),
  /** A scheduler decision (server/scheduler): a start and what was passed over, a caps/limits/budget change, a budget stop, the queue rebuilt at boot. */
  "scheduler.decision": z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("dispatched"),
      pool: PoolSchema,
      /** Fair-share virtual start tag the start was served at. */
      round: z.number(),
      queuedInPool: z.number().int(),
      passedOver: z.array(z.object({ repoId: z.string(), waitingFor: WaitReasonSchema })),
      held: z.array(z.object({ laneId: z.string(), waitingFor: WaitReasonSchema })),
    }),
    z.object({ kind: z.literal("caps_changed"), caps: CapsConfigSchema }),
    z.object({ kind: z.literal("rate_limits_changed"), limits: z.record(z.string(), RateLimitSchema.nullable()) }),
    z.object({ kind: z.literal("budget_changed"), lane: BudgetSchema.nullable().optional(), repos: z.record(z.string(), RepoBudgetSchema.nullable()).optional(), daily: BudgetSchema.nullable().optional() }),
    z.object({ kind: z.literal("budget_exceeded"), scope: z.string(), key: z.string(), metric: z.string(), spent: z.number(), limit: z.number() }),
    z.object({ kind: z.literal("restored"), queued: z.number().int(), running: z.number().int(), ms: z.number() }),
  ]),
  "check.started": z.object({ processId: z.string(), level: GreenLevelSchema, command: z.array(z.string()) }),
  /** A policy rule fired (server/policy); every automatic decision names its rule. Added in v1. */
  "policy.decided": z.object({
    ruleId: z.string(),
    action: z.string(),
    params: z.record(z.string(), z.unknown()).optional(),
    description: z.string().optional(),
    /** What was being decided, e.g. `check.started`, `lane.red`, `lane.failed`, `lane.green`, `lane.merged`. */
    trigger: z.string(),
  }),
  /** A repo's policy rules were (re)loaded (added in v1). */
  "policy.loaded": z.object({ source: z.enum(["defaults", "file", "api"]), path: z.string().nullable(), rules: z.number().int() }),
  /** A policy text was rejected; the previous rules stay in force (added in v1). */
  "policy.rejected": z.object({
    source: z.enum(["file", "api"]),
    path: z.string().nullable(),
    errors: z.array(z.object({ line: z.number().int(), column: z.number().int(), message: z.string() })),
  }),
  "warning": z.object({ failureClass: FailureClassSchema, message: z.string() }),
  /** The disk holding the data directory has less than the reserve free: new work is refused (503 `disk_full`). */
  "disk.full": z.object({
    dir: z.string(),
    freeBytes: z.number().int(),
    detectedAt: z.string().describe("when the server saw it (ISO 8601): the event row may be written later, once there is room"),
  }),
  /** A scoped token was made (POST /api/v1/tokens); never its secret. */
  "token.created": z.object({ tokenId: z.string(), name: z.string(), scopes: z.array(z.string()), repos: z.array(z.string()).nullable(), expiresAt: z.string().nullable() }),
  /** A token was revoked: refused from now on, its open sockets closed. */
  "token.revoked": z.object({ tokenId: z.string(), name: z.string() }),
  /** Room again: new work is accepted; exits kept while full have been recorded. */
  "disk.space_freed": z.object({ dir: z.string(), freeBytes: z.number().int() }),
  /** A node (server) joined the database: started, or restarted after a crash (docs/scale-out.md). Added in v1. */
  "node.joined": z.object({
    nodeId: z.string(),
    host: z.string(),
    capacity: z.number().int(),
    /** Its clock minus the database's, in ms; told when beyond ±2 s. */
    clockSkewMs: z.number().int(),
    /** It took over its own earlier registration (a restart after a crash). */
    restarted: z.boolean(),
  }),
  /** A node stopped cleanly (its lanes keep running unless it was started with --kill-on-exit). Added in v1. */
  "node.stopped": z.object({ nodeId: z.string() }),
  /** A node's heartbeat stood still for its whole lease: its running lanes are lost (each with its own `lane.failed`). Added in v1. */
  "node.lost": z.object({ nodeId: z.string(), lastHeartbeatAt: z.string().describe("ISO 8601 time"), leaseMs: z.number().int(), laneIds: z.array(z.string()) }),
  /** A node's clock is far from the database's (at boot or later). Added in v1. */
  "node.clock_skew": z.object({ nodeId: z.string(), clockSkewMs: z.number().int() }),
} as const;

export type LaneEventType = keyof typeof LANE_EVENT_PAYLOADS;
export const LANE_EVENT_TYPES = Object.keys(LANE_EVENT_PAYLOADS) as LaneEventType[];

const envelope = {
  id: z.number().int().positive(),
  v: z.literal(LANE_EVENT_VERSION),
  laneId: z.string().nullable(),
  repoId: z.string().nullable(),
  at: z.string().describe("ISO 8601 time"),
  by: z.string().optional().describe("Who caused it through the API: a token's name, `board` (the browser session) or `admin`; absent for the server's own decisions"),
};

type Variant<T extends LaneEventType> = z.ZodObject<{
  id: typeof envelope.id;
  v: typeof envelope.v;
  laneId: typeof envelope.laneId;
  repoId: typeof envelope.repoId;
  at: typeof envelope.at;
  by: typeof envelope.by;
  type: z.ZodLiteral<T>;
  payload: (typeof LANE_EVENT_PAYLOADS)[T];
}>;

function variant<T extends LaneEventType>(type: T): Variant<T> {
  return z.object({ ...envelope, type: z.literal(type), payload: LANE_EVENT_PAYLOADS[type] }) as Variant<T>;
}

const variants = LANE_EVENT_TYPES.map((t) => variant(t)) as unknown as [Variant<LaneEventType>, ...Variant<LaneEventType>[]];

/** A persisted lane event (envelope + typed payload), as stored and as sent to clients. */
export const LaneEventSchema = z.discriminatedUnion("type", variants);

export type LaneEventOf<T extends LaneEventType> = {
  id: number;
  v: typeof LANE_EVENT_VERSION;
  laneId: string | null;
  repoId: string | null;
  at: string;
  by?: string;
  type: T;
  payload: z.infer<(typeof LANE_EVENT_PAYLOADS)[T]>;
};
export type LaneEvent = { [T in LaneEventType]: LaneEventOf<T> }[LaneEventType];

/** What a domain module emits; the event log assigns id, v and at. */
export type NewLaneEvent = { [T in LaneEventType]: { type: T; laneId: string | null; repoId?: string | null; payload: LaneEventOf<T>["payload"] } }[LaneEventType];

/** Parse a payload for a type; throws ZodError on mismatch. */
export function parseLaneEventPayload<T extends LaneEventType>(type: T, payload: unknown): LaneEventOf<T>["payload"] {
  return LANE_EVENT_PAYLOADS[type].parse(payload) as LaneEventOf<T>["payload"];
}
