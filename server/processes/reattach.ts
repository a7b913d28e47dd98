/**
 * Finding a process again after a server restart. A row recorded as `starting`/`running` is
 * either still running (its pid alive under the recorded OS start time: reattach), or it ended
 * while the server was down (its exit file, if any, says how), or its pid now belongs to someone
 * else. A row whose pid was never recorded (the server died during start) is adopted from the
 * wrapper's pid file when the wrapper is found. Identity is pid + start time (procfs.ts), never
 * the pid alone: pids are reused.
 */
import type { Db } from "../store/db";
import { isSameProcess, readProcStat } from "./procfs";
import { findWrapper, processPaths } from "./wrapper";
import type { ProcessRow } from "./views";

/** What a live row is at boot: still running (reattach), or ended with why it may be lost. */
export type LiveRowState =
  | { running: true; pid: number; osStartTime: string }
  | { running: false; pid: number | null; osStartTime: string | null; lostReason: string };

/**
 * Inspect a row recorded live, adopting the wrapper first when its pid was never recorded.
 * Never signals anything; writes the row only when it adopts.
 */
export async function inspectLiveRow(db: Db, dataDir: string, row: ProcessRow): Promise<LiveRowState> {
  let { pid, osStartTime } = row;
  if (pid === null) ({ pid, osStartTime } = await adopt(db, dataDir, row.id));
  if (pid !== null && osStartTime !== null && isSameProcess(pid, osStartTime)) return { running: true, pid, osStartTime };
  const st = pid === null ? null : readProcStat(pid);
  const lostReason = pid === null
    ? "the server stopped before the process was recorded, and no trace of it was found"
    : st && st.state !== "Z"
      ? `pid ${pid} now belongs to another process (start time ${st.startTime}, recorded ${osStartTime})`
      : `process ${pid} ended while the server was down and left no exit status`;
  return { running: false, pid, osStartTime, lostReason };
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
