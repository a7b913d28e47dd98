/**
 * Completing, or making again, the starts a stopped server left half done (the lane runner's boot step).
 */
import { LIVE_STATUSES, exitFromRow } from "../processes/views";
import { loadLane, transitionLane, type LaneDeps, type LaneRow } from "../records/lane-store";
import type { NewLaneEvent } from "@/lib/lane-events";
import type { LaneRunner } from "./lane-runner";
import type { WorkerRow } from "../workers/worker-state-machine";

/** The `lane.started` event of a lane whose worker process `proc` runs: it closes `starting → running`. */
export function laneStarted(lane: Pick<LaneRow, "id" | "repoId" | "attempt">, workerId: string, proc: { id: string; pid?: number | null }): NewLaneEvent {
  return { type: "lane.started", laneId: lane.id, repoId: lane.repoId, payload: { workerId, processId: proc.id, pid: proc.pid ?? -1, attempt: lane.attempt } };
}

/**
 * The worker row of a lane's `attempt` whose process was never spawned (still `spawning`, no
 * process), left by a start that a stopped server cut: the start made again uses it instead of a
 * second worker for the same attempt. null when there is none (a first start).
 */
export async function unspawnedWorker(db: LaneDeps["db"], laneId: string, attempt: number): Promise<WorkerRow | null> {
  return db.worker.findFirst({ where: { laneId, attempt, processId: null, state: "spawning" }, orderBy: { createdAt: "desc" } });
}

/**
 * At start, after the supervisor reattached what still runs: lanes a stopped server left
 * `starting` (it died between `queued → starting` and `lane.started`). A worker process that ran
 * (its row exists and is not `spawn_failed`: running, or ended) is the lane's, so the start is
 * completed (`running`, `lane.started` with that process; an exit it already had is then handled
 * as usual). A start cut before its worker ran (no process row, or one the supervisor found never
 * ran, `spawn_failed`) is made again, once, in place ({@link LaneRunner.startAgain}: the same
 * attempt and worker row), not awaited; nothing of it ran, so the lane is not started twice.
 * Never throws (problems are logged). On several nodes, only this node's lanes (and those from
 * before nodes existed): another node's `starting` lanes are that node's to complete.
 * @returns ids of the lanes completed and of those whose start is made again
 */
export async function recoverStarts(runner: Pick<LaneRunner, "startAgain" | "handleProcessExit">, deps: LaneDeps & { nodeId: string }): Promise<{ completed: string[]; startedAgain: string[] }> {
  const { db } = deps;
  const out = { completed: [] as string[], startedAgain: [] as string[] };
  for (const { id } of await db.lane.findMany({ where: { state: "starting", OR: [{ nodeId: deps.nodeId }, { nodeId: null }] }, select: { id: true } })) {
    try {
      const lane = await loadLane(db, id);
      const since = lane.startedAt ? { createdAt: { gte: lane.startedAt } } : {};
      const proc = await db.process.findFirst({ where: { laneId: id, role: "worker", ...since }, orderBy: { createdAt: "desc" } });
      if (!proc || proc.status === "spawn_failed") {
        console.warn(`[lanes] the start of lane ${id} (attempt ${lane.attempt}) was cut before its worker ran; starting it again`);
        void runner.startAgain(lane).catch((err: unknown) => console.warn(`[lanes] starting lane ${id} again failed:`, err instanceof Error ? err.message : err));
        out.startedAgain.push(id);
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
