/**
 * Finding a process again after a server restart. A row recorded as `starting`/`running` is
 * either still running (its pid alive under the recorded OS start time: reattach), or it ended
 * while the server was down (its exit file, if any, says how), or its pid now belongs to someone
 * else. A row whose pid was never recorded (the server died during start) is adopted from the
 * wrapper's pid file when the wrapper is found; one that left no trace at all never ran (the
 * server stopped between writing the row and spawning the wrapper). Identity is pid + start time
 * (procfs.ts), never the pid alone: pids are reused.
 */
import { statSync } from "node:fs";
import type { EventBus } from "../events/event-bus";
import type { Db } from "../store/db";
import { isSameProcess, readProcStat } from "./procfs";
import { readCgroupFile, removeCgroup, scopeMembers } from "./process-scope";
import { type ProcessPaths, findWrapper, processPaths } from "./wrapper";
import { LIVE_STATUSES, type ProcessRow } from "./views";

/**
 * What a live row is at boot: still running (reattach), never ran (`neverRan`: no trace of its
 * wrapper, see {@link neverRan}), or ended with why it may be lost.
 */
export type LiveRowState =
  | { running: true; pid: number; osStartTime: string }
  | { running: false; neverRan: true }
  | { running: false; neverRan: false; pid: number | null; osStartTime: string | null; lostReason: string };

/**
 * Inspect a row recorded live, adopting the wrapper first when its pid was never recorded.
 * Never signals anything; writes the row only when it adopts.
 */
export async function inspectLiveRow(db: Db, dataDir: string, row: ProcessRow): Promise<LiveRowState> {
  let { pid, osStartTime } = row;
  if (pid === null) ({ pid, osStartTime } = await adopt(db, dataDir, row.id));
  if (pid === null && neverRan(processPaths(dataDir, row.id), row.id)) return { running: false, neverRan: true };
  if (pid !== null && osStartTime !== null && isSameProcess(pid, osStartTime)) return { running: true, pid, osStartTime };
  const st = pid === null ? null : readProcStat(pid);
  const lostReason = pid === null
    ? "the server stopped before the process was recorded, and no trace of it was found"
    : st && st.state !== "Z"
      ? `pid ${pid} now belongs to another process (start time ${st.startTime}, recorded ${osStartTime})`
      : `process ${pid} ended while the server was down and left no exit status`;
  return { running: false, neverRan: false, pid, osStartTime, lostReason };
}

/**
 * True when nothing of a process whose pid was never recorded ran: its wrapper (wrapper.ts) left
 * no pid file and no exit file, which it writes before it runs the command, its logs are empty,
 * and no live process carries its marker or is in its cgroup (a wrapper spawned but not yet at
 * its first line). The server stopped between recording the row and spawning the wrapper
 * (launch.ts), so the start never happened and may be made again.
 */
export function neverRan(p: ProcessPaths, processId: string): boolean {
  const size = (file: string) => {
    try {
      return statSync(file).size;
    } catch {
      return null;
    }
  };
  if (size(p.pid) !== null || size(p.exit) !== null || (size(p.stdout) ?? 0) > 0 || (size(p.stderr) ?? 0) > 0) return false;
  return scopeMembers({ processId, pgid: null, cgroup: readCgroupFile(p.cgroup), trustPgid: false }).length === 0;
}

/**
 * End a row that {@link neverRan}: recorded `spawn_failed` (no exit status, no `process.lost`)
 * unless another writer ended it first, its empty cgroup removed, a warning, and bus
 * `process.exit` with status `spawn_failed` (its lane's start is made again:
 * lanes/recover-starts.ts). A row the database refuses to end now (a full disk) stays live for
 * the next boot: it never ran, so nothing is lost meanwhile. Never throws.
 * @returns true when this call ended it
 */
export async function endNeverRan(
  row: ProcessRow,
  o: { db: Db; dataDir: string; bus: Pick<EventBus, "emit">; warn: (message: string) => void; refused: (error: unknown) => void },
): Promise<boolean> {
  let count: number;
  try {
    ({ count } = await o.db.process.updateMany({ where: { id: row.id, status: { in: [...LIVE_STATUSES] } }, data: { status: "spawn_failed", endedAt: new Date() } }));
  } catch (err) {
    o.refused(err);
    return false;
  }
  const cgroup = readCgroupFile(processPaths(o.dataDir, row.id).cgroup);
  if (cgroup) removeCgroup(cgroup);
  if (count === 0) return false;
  o.warn(`process ${row.id} (${row.role}) never ran: the server stopped after recording it and before spawning it`);
  o.bus.emit("process.exit", { processId: row.id, laneId: row.laneId, role: row.role, status: "spawn_failed", exitCode: null, signal: null });
  return true;
}

/** A row whose pid was never recorded (the server died during start): find the wrapper by its pid file. */
async function adopt(db: Db, dataDir: string, id: string): Promise<{ pid: number | null; osStartTime: string | null }> {
  const found = findWrapper(processPaths(dataDir, id));
  if (!found) return { pid: null, osStartTime: null };
  await db.process
    .update({ where: { id }, data: { pid: found.pid, pgid: found.pid, osStartTime: found.startTime, status: "running", startedAt: new Date() } })
    .catch(() => undefined);
  return { pid: found.pid, osStartTime: found.startTime };
}

/**
 * The Process rows a supervisor owns (a Prisma `where` fragment): its node's, or, for rows from
 * before nodes existed, those whose logs are in its data dir. Without a node id, every row.
 */
export function ownRows(o: { nodeId?: string; dataDir: string }) {
  return o.nodeId ? { OR: [{ nodeId: o.nodeId }, { nodeId: null, logDir: { startsWith: `${o.dataDir}/` } }] } : {};
}
