/**
 * Validation of a lane's scheduling fields against the clock and the Lane table, before anything
 * is created or changed (so a refused request leaves the queue and the repo untouched):
 * ranges and types (zod, field named), a deadline in the past, dependencies that do not exist or
 * belong to another repo, a parent that does not exist. Self-dependencies and cycles are caught
 * by the dependency graph when the change is applied (it is all-or-nothing).
 */
import { AppError } from "@/lib/errors";
import type { TaskPacket } from "@/lib/task-packet";
import type { Db } from "../store/db";
import { parseLaneScheduling, type LaneScheduling, type LaneSchedulingInput } from "./schemas";

/** The scheduling fields of a parsed task packet (absent ones take the scheduler's defaults). */
export function schedulingOf(packet: TaskPacket): LaneSchedulingInput {
  const { pool, priority, deadline, dependsOn, mode, artifact, budget, parentId } = packet;
  return { pool, priority, deadline, dependsOn, mode, artifact, budget, parentId };
}

/**
 * Every dependency must be a lane of `repoId`.
 * @throws AppError invalid_input naming `<field>.<i>` for the first bad one.
 */
export async function checkDependencies(db: Db, repoId: string, deps: readonly string[], field = "dependsOn"): Promise<void> {
  if (deps.length === 0) return;
  const rows = await db.lane.findMany({ where: { id: { in: [...deps] } }, select: { id: true, repoId: true } });
  const byId = new Map(rows.map((r) => [r.id, r.repoId]));
  deps.forEach((id, i) => {
    const f = `${field}.${i}`;
    const repo = byId.get(id);
    if (repo === undefined) throw new AppError("invalid_input", `${f}: no lane ${id}`, { fields: [f] });
    if (repo !== repoId) throw new AppError("invalid_input", `${f}: lane ${id} belongs to another repo (${repo}); dependencies must be in the same repo`, { fields: [f] });
  });
}

/**
 * Validate a new lane's scheduling fields.
 * @param now epoch ms; the deadline must be after it.
 * @returns the fields with defaults applied (deadline as epoch ms or null).
 * @throws AppError invalid_input naming the field (`priority`, `deadline`, `dependsOn.1`,
 *   `budget.maxTokens`, `parentId`, …).
 */
export async function validateNewLane(db: Db, repoId: string, input: LaneSchedulingInput, now: number): Promise<LaneScheduling> {
  const s = parseLaneScheduling({ now }, input);
  await checkDependencies(db, repoId, s.dependsOn);
  if (s.parentId && !(await db.lane.findUnique({ where: { id: s.parentId }, select: { id: true } }))) {
    throw new AppError("invalid_input", `parentId: no lane ${s.parentId}`, { fields: ["parentId"] });
  }
  return s;
}
