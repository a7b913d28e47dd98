/**
 * The lane read model: the one place that builds {@link LaneView}s (lib/api.ts) from Lane rows,
 * for the board, the lane list and every verb that answers with a lane.
 *
 * A view is the row's own fields, then the last event and current process, the scheduler's
 * queue position, wait reason and schedule, the flags derived from the lane's events
 * (./lane-flags.ts: blocked, merged, mergeReady, baseMoved), and the current worker and summary.
 * Related rows are read with one query per kind for each batch of lanes (server/store/batch.ts:
 * bounded IN lists).
 */
import type { LaneView } from "@/lib/api";
import { AppError } from "@/lib/errors";
import type { LaneState } from "@/lib/lane-state";
import { checksByLevel, parseCheckRuns } from "../checks/check-runs";
import type { FreshnessTracker } from "../freshness/freshness";
import type { Scheduler } from "../scheduler/scheduler";
import { inBatches } from "../store/batch";
import type { Db } from "../store/db";
import type { Lane } from "../store/generated/client";
import type { LaneSummaryService } from "../workers/lane-summary";
import { currentWorkers, toWorkerView } from "../workers/worker-view";
import { laneFlags } from "./lane-flags";

interface LaneViewExtras {
  lastEvent: { id: number; type: string; at: Date } | null;
  currentProcessId: string | null;
  queuePosition: number | null;
}

function toLaneView(lane: ViewRow, extras: LaneViewExtras): LaneView {
  return {
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
    checks: checksByLevel(parseCheckRuns(lane.checks)),
    lastEvent: extras.lastEvent ? { id: extras.lastEvent.id, type: extras.lastEvent.type, at: extras.lastEvent.at.toISOString() } : null,
    currentProcessId: extras.currentProcessId,
    queuePosition: extras.queuePosition,
    createdAt: lane.createdAt.toISOString(),
    startedAt: lane.startedAt?.toISOString() ?? null,
    endedAt: lane.endedAt?.toISOString() ?? null,
  };
}

/** The row fields a view is built from (the packet is not shown). */
type ViewRow = Omit<Lane, "packet">;

export interface LaneViewsDeps {
  db: Db;
  scheduler: Pick<Scheduler, "where" | "settings">;
  summaries: Pick<LaneSummaryService, "getMany">;
  freshness: Pick<FreshnessTracker, "peek">;
}

export class LaneViews {
  constructor(private readonly deps: LaneViewsDeps) {}

  /** One lane's view. @throws AppError not_found */
  async get(laneId: string): Promise<LaneView> {
    const lane = await this.deps.db.lane.findUnique({ where: { id: laneId }, omit: { packet: true } });
    if (!lane) throw new AppError("not_found", `no lane with id ${laneId}`);
    return (await this.build([lane]))[0]!;
  }

  /** Every lane's view (of one repo, if given), oldest first. */
  async list(opts: { repoId?: string } = {}): Promise<LaneView[]> {
    const lanes = await this.deps.db.lane.findMany({ where: opts.repoId ? { repoId: opts.repoId } : {}, orderBy: { createdAt: "asc" }, omit: { packet: true } });
    return this.build(lanes);
  }

  /** Views of `lanes`, in the same order. */
  async build(lanes: ViewRow[]): Promise<LaneView[]> {
    if (lanes.length === 0) return [];
    const { db, scheduler } = this.deps;
    const ids = lanes.map((l) => l.id);
    const eventIds = lanes.map((l) => l.lastEventId).filter((x): x is number => x !== null);
    const [events, procs, extra] = await Promise.all([
      inBatches(eventIds, (chunk) => db.laneEvent.findMany({ where: { id: { in: chunk } }, select: { id: true, type: true, at: true } })),
      // Oldest first per chunk, so the last one seen for a lane is its newest (a lane is in one chunk only).
      inBatches(ids, (chunk) => db.process.findMany({ where: { laneId: { in: chunk } }, orderBy: { createdAt: "asc" }, select: { id: true, laneId: true } })),
      this.#decorations(ids),
    ]);
    const eventById = new Map(events.map((e) => [e.id, e]));
    const lastProc = new Map(procs.map((p) => [p.laneId, p.id]));
    return lanes.map((lane) => {
      const where = lane.state === "queued" ? scheduler.where(lane.id) : null;
      return {
        ...toLaneView(lane, {
          lastEvent: lane.lastEventId ? (eventById.get(lane.lastEventId) ?? null) : null,
          currentProcessId: lastProc.get(lane.id) ?? null,
          queuePosition: where?.position ?? null,
        }),
        waitingFor: where?.waitingFor ?? null,
        schedule: scheduler.settings.laneSchedule(lane),
        ...extra.get(lane.id),
      };
    });
  }

  /** Per lane: the flags derived from its events, its current worker and its summary. */
  async #decorations(ids: string[]): Promise<Map<string, Partial<LaneView>>> {
    const { db } = this.deps;
    const [flags, workers, summaries] = await Promise.all([laneFlags(db, this.deps.freshness, ids), currentWorkers(db, ids), this.deps.summaries.getMany(ids)]);
    return new Map(
      ids.map((id) => {
        const w = workers.get(id);
        const summary = summaries.get(id);
        return [id, { ...flags.get(id), worker: w ? toWorkerView(w) : null, ...(summary ? { summary } : {}) }];
      }),
    );
  }
}
