/** Worker row → API view (lib/worker-state.ts `WorkerView`), and the lane's current worker. */
import type { WorkerState } from "@/lib/lane-state";
import { WorkerErrorSchema, WorkerUsageSchema, type WorkerView } from "@/lib/worker-state";
import { inBatches } from "../store/batch";
import type { Db } from "../store/db";
import { parseJsonColumn } from "../store/json-column";
import type { WorkerRow } from "./worker-state-machine";


/** Worker row → view; `promptMode` is the lane's prompt verdict (./prompt-acceptance.ts), null when a prompt would be refused. */
export function toWorkerView(w: WorkerRow, promptMode: WorkerView["promptMode"]): WorkerView {
  return {
    id: w.id,
    laneId: w.laneId,
    engine: w.engine,
    state: w.state as WorkerState,
    stateVersion: w.stateVersion,
    attempt: w.attempt,
    processId: w.processId,
    sessionId: w.sessionId,
    promptDeliveries: w.promptDeliveries,
    usage: parseJsonColumn(w.usage, WorkerUsageSchema),
    lastError: parseJsonColumn(w.lastError, WorkerErrorSchema),
    readyAt: w.readyAt?.toISOString() ?? null,
    createdAt: w.createdAt.toISOString(),
    endedAt: w.endedAt?.toISOString() ?? null,
    acceptsPrompt: promptMode !== null,
    promptMode,
  };
}

/** The lane's current worker: the one of its latest attempt (null before the first start). */
export function currentWorker(db: Db, laneId: string): Promise<WorkerRow | null> {
  return db.worker.findFirst({ where: { laneId }, orderBy: [{ attempt: "desc" }, { createdAt: "desc" }] });
}

/**
 * The current worker of each lane, by lane id, and the lanes some worker of which reported an
 * agent session id (what a follow-up resumes). One query per batch of lanes.
 */
export async function currentWorkers(db: Db, laneIds: readonly string[]): Promise<{ current: Map<string, WorkerRow>; withSession: Set<string> }> {
  const rows = await inBatches(laneIds, (chunk) => db.worker.findMany({ where: { laneId: { in: chunk } }, orderBy: [{ attempt: "asc" }, { createdAt: "asc" }] }));
  return { current: new Map(rows.map((r) => [r.laneId, r])), withSession: new Set(rows.filter((r) => r.sessionId !== null).map((r) => r.laneId)) };
}

/** Whether some worker of the lane reported an agent session id. */
export async function hasAgentSession(db: Db, laneId: string): Promise<boolean> {
  return (await db.worker.count({ where: { laneId, sessionId: { not: null } } })) > 0;
}
