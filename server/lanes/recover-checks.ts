/**
 * Starting again the acceptance checks a stopped server cut before they ran (the lane runner's
 * boot step, after the starts: recover-starts.ts).
 *
 * A check's process row is written before its wrapper is spawned, and its run (the lane's
 * `checks`) only once the process runs. A server stopped in between left the lane `checking` with
 * nothing that would ever end it: the supervisor ends the row that never ran as `spawn_failed`
 * (processes/reattach.ts `endNeverRan`), and no run names that process, so its exit settles
 * nothing. The same holds for a stop between `running → checking` (or a green check and the next
 * one) and the next check's process row. Such a check is started again, once, in place: the same
 * round and index, through the check runner (so in a check slot, with its hooks). Nothing of it
 * ran, so no check runs twice.
 */
import { LIVE_STATUSES } from "../processes/views";
import { currentRound, parseCheckRuns, type CheckRun } from "../checks/check-runs";
import type { CheckRunner } from "../checks/check-runner";
import { loadLane, updateLane, type LaneDeps, type LaneRow } from "../records/lane-store";

/** The check a stop cut before it ran: its index and round, and the lane's runs without its stale entry. */
interface CutCheck {
  index: number;
  round: number;
  runs: CheckRun[];
}

/**
 * The check of a `checking` lane that a stop cut before it ran, or null when there is none to
 * start: a check process that ran (live, or ended) is followed by the supervisor and its exit
 * settles the lane; a red run in the round already decided (settle or a new round); every check
 * green leaves nothing to run.
 */
async function cutCheck(db: LaneDeps["db"], lane: LaneRow): Promise<CutCheck | null> {
  const since = lane.startedAt ? { createdAt: { gte: lane.startedAt } } : {};
  const procs = await db.process.findMany({ where: { laneId: lane.id, role: "check", ...since }, select: { id: true, status: true } });
  if (procs.some((p) => LIVE_STATUSES.includes(p.status))) return null;
  const runs = parseCheckRuns(lane.checks);
  const round = currentRound(runs);
  const inRound = runs.filter((r) => (r.round ?? 0) === round);
  if (inRound.some((r) => r.status === "red")) return null;
  const pending = inRound.find((r) => r.status === "running");
  const ran = (processId: string | null) => procs.some((p) => p.id === processId && p.status !== "spawn_failed");
  if (pending && ran(pending.processId)) return null;
  // A check process that ran but that no run names: its exit cannot settle the lane, but it ran, so it is not started again here.
  if (!pending && procs.some((p) => p.status !== "spawn_failed" && !runs.some((r) => r.processId === p.id))) return null;
  const index = pending ? pending.index : inRound.filter((r) => r.status === "green").length;
  if (index >= lane.packet.acceptance.length) return null;
  return { index, round, runs: runs.filter((r) => r !== pending) };
}

/**
 * At start, after the supervisor ended what never ran: the `checking` lanes of this node (and
 * those from before nodes existed) whose current check a stop cut before it ran get that check
 * started again ({@link CheckRunner.start}, not awaited). Never throws (problems are logged).
 * @returns ids of the lanes whose check is started again
 */
export async function recoverChecks(checks: Pick<CheckRunner, "start">, deps: LaneDeps & { nodeId: string }): Promise<string[]> {
  const { db } = deps;
  const out: string[] = [];
  for (const { id } of await db.lane.findMany({ where: { state: "checking", OR: [{ nodeId: deps.nodeId }, { nodeId: null }] }, select: { id: true } })) {
    try {
      const lane = await loadLane(db, id);
      const cut = await cutCheck(db, lane);
      if (!cut) continue;
      console.warn(`[lanes] check ${cut.index + 1} of lane ${id} (round ${cut.round}) was cut before it ran; starting it again`);
      const updated = await updateLane(db, id, { checks: JSON.stringify(cut.runs) });
      void checks.start(updated, updated.packet, cut.index, cut.round).catch((err: unknown) => console.warn(`[lanes] starting a check of lane ${id} again failed:`, err instanceof Error ? err.message : err));
      out.push(id);
    } catch (err) {
      console.warn(`[lanes] recovering the checks of lane ${id} failed:`, err instanceof Error ? err.message : err);
    }
  }
  return out;
}
