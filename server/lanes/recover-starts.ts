/**
 * Completing or failing the starts a stopped server left half done (the lane runner's boot step).
 */
import { LIVE_STATUSES, exitFromRow } from "../processes/views";
import { loadLane, transitionLane, type LaneDeps, type LaneRow } from "../records/lane-store";
import type { NewLaneEvent } from "@/lib/lane-events";
import type { LaneRunner } from "./lane-runner";

/** The `lane.started` event of a lane whose worker process `proc` runs: it closes `starting → running`. */
export function laneStarted(lane: Pick<LaneRow, "id" | "repoId" | "attempt">, workerId: string, proc: { id: string; pid?: number | null }): NewLaneEvent {
  return { type: "lane.started", laneId: lane.id, repoId: lane.repoId, payload: { workerId, processId: proc.id, pid: proc.pid ?? -1, attempt: lane.attempt } };
}

/**
 * At start, after the supervisor reattached what still runs: lanes a stopped server left
 * `starting` (it died between `queued → starting` and `lane.started`). Never starts anything,
 * so no lane is started twice: a worker process that was spawned (its row exists, running or
 * ended) is the lane's, so the start is completed (`running`, `lane.started` with that process;
 * an exit it already had is then handled as usual); a lane whose worker was never spawned
 * fails (`infra`), and a person or recovery restarts it. Never throws (problems are logged).
 * On several nodes, only this node's lanes (and those from before nodes existed): another node's
 * `starting` lanes are that node's to complete.
 * @returns ids of the lanes completed and failed
 */
export async function recoverStarts(runner: Pick<LaneRunner, "settle" | "handleProcessExit">, deps: LaneDeps & { nodeId: string }): Promise<{ completed: string[]; failed: string[] }> {
  const { db } = deps;
  const out = { completed: [] as string[], failed: [] as string[] };
  for (const { id } of await db.lane.findMany({ where: { state: "starting", OR: [{ nodeId: deps.nodeId }, { nodeId: null }] }, select: { id: true } })) {
    try {
      const lane = await loadLane(db, id);
      const since = lane.startedAt ? { createdAt: { gte: lane.startedAt } } : {};
      const proc = await db.process.findFirst({ where: { laneId: id, role: "worker", ...since }, orderBy: { createdAt: "desc" } });
      if (!proc) {
        const reason = "the server stopped while starting the worker, before it ran; restart the lane";
        await runner.settle(lane, "failed", { exitCode: null, signal: null }, "infra", reason, { failureReason: "start_interrupted", summary: reason, role: "worker" });
        out.failed.push(id);
        continue;
      }
      const worker = await db.worker.findFirst({ where: { laneId: id, attempt: lane.attempt }, orderBy: { createdAt: "desc" } });
      if (worker && !worker.processId) await db.worker.update({ where: { id: worker.id }, data: { processId: proc.id } });
      const running = await transitionLane(deps, lane, "running", {}, [laneStarted(lane, worker?.id ?? "", proc)]);
      if (!running) continue;
      if (!LIVE_STATUSES.includes(proc.status)) runner.handleProcessExit(exitFromRow(proc));
      out.completed.push(id);
    } catch (err) {
      console.warn(`[lanes] recovering the start of lane ${id} failed:`, err instanceof Error ? err.message : err);
    }
  }
  return out;
}

