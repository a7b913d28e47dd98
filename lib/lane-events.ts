/**
 * The lane event catalog: one zod discriminated union shared by server and client. Every state
 * change is appended as a LaneEvent row (its integer id is the cursor) and pushed over
 * Socket.IO as `lane:event`. Names follow ../shared/docs/domain.md (roadmap §4).
 *
 * Versioning: `v` is the catalog version. Changes are additive (new types, new optional
 * fields); a breaking payload change bumps `v` and keeps the old shape parseable.
 */
import { z } from "zod";
import { FailureClassSchema, LaneStateSchema, WorkerStateSchema } from "./lane-state";
import { GreenLevelSchema } from "./task-packet";

export const LANE_EVENT_VERSION = 1 as const;

const ExitSchema = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
});

/** Payload schemas keyed by event type. */
export const LANE_EVENT_PAYLOADS = {
  "repo.registered": z.object({ path: z.string(), name: z.string(), mainBranch: z.string() }),
  "lane.created": z.object({ objective: z.string(), branch: z.string(), baseBranch: z.string(), engine: z.string(), worktreePath: z.string() }),
  "lane.queued": z.object({ reason: z.string(), position: z.number().int().nullable() }),
  "lane.state_changed": z.object({ from: LaneStateSchema, to: LaneStateSchema }),
  "lane.started": z.object({ workerId: z.string(), processId: z.string(), pid: z.number().int(), attempt: z.number().int() }),
  "lane.ready": z.object({ workerId: z.string() }),
  "lane.prompt_misdelivery": z.object({ workerId: z.string(), evidence: z.string() }),
  "lane.blocked": z.object({ reason: z.string(), failureClass: FailureClassSchema.optional() }),
  "lane.red": z.object({ level: GreenLevelSchema, command: z.array(z.string()), exitCode: z.number().int().nullable(), durationMs: z.number(), failureClass: FailureClassSchema }),
  "lane.green": z.object({ level: GreenLevelSchema, command: z.array(z.string()), durationMs: z.number() }),
  "lane.commit.created": z.object({ sha: z.string(), subject: z.string(), branch: z.string() }),
  "lane.pr.opened": z.object({ url: z.string() }),
  "lane.merge.ready": z.object({ sha: z.string() }),
  "lane.finished": ExitSchema,
  "lane.failed": ExitSchema.extend({ failureClass: FailureClassSchema, reason: z.string() }),
  "lane.killed": z.object({ by: z.string(), signal: z.string().nullable(), graceMs: z.number() }),
  "lane.restarted": z.object({ attempt: z.number().int(), by: z.string() }),
  "lane.recovery.attempted": z.object({ recipe: z.string(), failureClass: FailureClassSchema }),
  "lane.escalated": z.object({ reason: z.string(), failureClass: FailureClassSchema, evidence: z.array(z.string()) }),
  "branch.stale_against_main": z.object({ ahead: z.number().int(), behind: z.number().int(), baseBranch: z.string() }),
  "branch.freshness": z.object({ ahead: z.number().int(), behind: z.number().int(), baseBranch: z.string() }),
  "branch.workspace_mismatch": z.object({ expected: z.string(), actual: z.string() }),
  "worker.state_changed": z.object({ workerId: z.string(), from: WorkerStateSchema.nullable(), to: WorkerStateSchema }),
  "trust_required": z.object({ workerId: z.string(), path: z.string() }),
  "trust_resolved": z.object({ workerId: z.string(), by: z.string() }),
  "process.started": z.object({ processId: z.string(), role: z.string(), pid: z.number().int(), pgid: z.number().int(), command: z.array(z.string()) }),
  "process.exited": ExitSchema.extend({ processId: z.string(), role: z.string() }),
  "process.lost": z.object({ processId: z.string(), reason: z.string() }),
  "process.reattached": z.object({ processId: z.string(), pid: z.number().int() }),
  "process.output_truncated": z.object({ processId: z.string(), bytes: z.number().int() }),
  "check.started": z.object({ processId: z.string(), level: GreenLevelSchema, command: z.array(z.string()) }),
  "warning": z.object({ failureClass: FailureClassSchema, message: z.string() }),
} as const;

export type LaneEventType = keyof typeof LANE_EVENT_PAYLOADS;
export const LANE_EVENT_TYPES = Object.keys(LANE_EVENT_PAYLOADS) as LaneEventType[];

const envelope = {
  id: z.number().int().positive(),
  v: z.literal(LANE_EVENT_VERSION),
  laneId: z.string().nullable(),
  repoId: z.string().nullable(),
  at: z.string().describe("ISO 8601 time"),
};

type Variant<T extends LaneEventType> = z.ZodObject<{
  id: typeof envelope.id;
  v: typeof envelope.v;
  laneId: typeof envelope.laneId;
  repoId: typeof envelope.repoId;
  at: typeof envelope.at;
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
