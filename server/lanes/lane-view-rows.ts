/**
 * The part of a lane's view that comes from its rows: the Lane row's own fields, its last event,
 * its newest process, its current worker, the flags derived from its events (./lane-flags.ts) and
 * its scheduling settings. Read for any number of lanes with one query per kind of row and batch
 * of lanes (../store/batch.ts: bounded `IN` lists), never one query per lane.
 *
 * What is left of a {@link LaneView} moves without a write to these rows and is added when a view
 * is composed (./lane-views.ts): the queue position and wait reason, usage from the scheduler's
 * ledger, `baseMoved` from the freshness tracker, and the lane summary.
 */
import type { LaneView } from "@/lib/api";
import type { LaneState } from "@/lib/lane-state";
import type { LaneScheduleView } from "@/lib/scheduling";
import { checksByLevel, shownCheckRuns } from "../checks/check-runs";
import type { SchedulerApi } from "../scheduler/scheduler-api";
import { inBatches } from "../store/batch";
import type { Db } from "../store/db";
import type { Lane } from "../store/generated/client";
import { promptVerdict } from "../workers/prompt-acceptance";
import { currentWorkers, toWorkerView } from "../workers/worker-view";
import { laneFlags } from "./lane-flags";

/** The row fields a view is built from (the packet is not shown). */
export type ViewRow = Omit<Lane, "packet">;

/** A lane's view fields that only change when one of its rows does, in the view's key order. */
export interface LaneBase {
  row: ViewRow;
  /** `id` … `currentProcessId` of the view. */
  head: Pick<
    LaneView,
    "id" | "repoId" | "slug" | "objective" | "engine" | "state" | "branch" | "baseBranch" | "worktreePath" | "ahead" | "behind" | "lastExitCode" | "attempt" | "nodeId" | "checks" | "lastEvent" | "currentProcessId"
  >;
  /** `createdAt`, `startedAt`, `endedAt`: after `queuePosition`. */
  times: Pick<LaneView, "createdAt" | "startedAt" | "endedAt">;
  /** The scheduling settings; `used` is the stored usage, replaced by the ledger's when composed. */
  schedule: LaneScheduleView;
  flags: Pick<LaneView, "blocked" | "merged" | "mergeReady">;
  worker: LaneView["worker"];
}

export interface LaneRowsDeps {
  db: Db;
  scheduler: Pick<SchedulerApi, "laneSchedule">;
  /** Whether a worker has an interactive session attached (the worker service's). */
  sessions: { hasSession(workerId: string): boolean };
}

/** Lane rows by id, in no particular order (ids without a row are left out). */
export function readLaneRows(db: Db, ids: readonly string[]): Promise<ViewRow[]> {
  return inBatches(ids, (chunk) => db.lane.findMany({ where: { id: { in: chunk } }, omit: { packet: true } }));
}

/** Every Lane row (the read model's first load). */
export function readAllLaneRows(db: Db): Promise<ViewRow[]> {
  return db.lane.findMany({ omit: { packet: true } });
}

/** The row-derived part of each lane's view, by lane id. */
export async function readLaneBases(deps: LaneRowsDeps, lanes: readonly ViewRow[]): Promise<Map<string, LaneBase>> {
  const out = new Map<string, LaneBase>();
  if (lanes.length === 0) return out;
  const { db, scheduler } = deps;
  const ids = lanes.map((l) => l.id);
  const eventIds = lanes.map((l) => l.lastEventId).filter((x): x is number => x !== null);
  const [events, procs, flags, workers] = await Promise.all([
    inBatches(eventIds, (chunk) => db.laneEvent.findMany({ where: { id: { in: chunk } }, select: { id: true, type: true, at: true } })),
    // Oldest first per chunk, so the last one seen for a lane is its newest (a lane is in one chunk only).
    inBatches(ids, (chunk) => db.process.findMany({ where: { laneId: { in: chunk } }, orderBy: { createdAt: "asc" }, select: { id: true, laneId: true } })),
    laneFlags(db, ids),
    currentWorkers(db, ids),
  ]);
  const eventById = new Map(events.map((e) => [e.id, e]));
  const lastProc = new Map(procs.map((p) => [p.laneId, p.id]));
  for (const lane of lanes) {
    const event = lane.lastEventId ? eventById.get(lane.lastEventId) : undefined;
    const worker = workers.current.get(lane.id);
    // Whether a prompt sent now is accepted, and how (../workers/prompt-acceptance.ts).
    const verdict = worker ? promptVerdict({ lane, worker, session: deps.sessions.hasSession(worker.id), agentSession: workers.withSession.has(lane.id) }) : null;
    const { blocked = null, merged = false, mergeReady = null } = flags.get(lane.id) ?? {};
    out.set(lane.id, {
      row: lane,
      head: {
        id: lane.id,
        repoId: lane.repoId,
        slug: lane.slug,
        objective: lane.objective,
        engine: lane.engine,
        state: lane.state as LaneState,
        branch: lane.branch,
        baseBranch: lane.baseBranch,
        worktreePath: lane.worktreePath,
        ahead: lane.ahead,
        behind: lane.behind,
        lastExitCode: lane.lastExitCode,
        attempt: lane.attempt,
        nodeId: lane.nodeId,
        checks: checksByLevel(shownCheckRuns(lane.checks)),
        lastEvent: event ? { id: event.id, type: event.type, at: event.at.toISOString() } : null,
        currentProcessId: lastProc.get(lane.id) ?? null,
      },
      times: { createdAt: lane.createdAt.toISOString(), startedAt: lane.startedAt?.toISOString() ?? null, endedAt: lane.endedAt?.toISOString() ?? null },
      schedule: scheduler.laneSchedule(lane),
      flags: { blocked, merged, mergeReady },
      worker: worker ? toWorkerView(worker, verdict?.mode ?? null) : null,
    });
  }
  return out;
}
