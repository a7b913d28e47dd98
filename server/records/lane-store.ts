/**
 * Lane rows as the domain uses them, and guarded lane state writes.
 *
 * A Lane row stores its task packet as JSON (validated when the lane was created). It is parsed
 * here, where the row is read ({@link toLaneRow}, {@link loadLane}, {@link findLane},
 * {@link updateLane}, {@link transitionLane}), so every caller gets the typed packet and nobody
 * parses it again.
 *
 * Every lane state change goes through {@link transitionLane}: it checks the transition table
 * (lib/lane-state.ts), updates the row only if it still has the state and `stateVersion` the
 * caller read (so a stale writer loses instead of overwriting), and appends a
 * `lane.state_changed` event. Given the supervisor (`deps.supervisor`), events the database refuses
 * after the state landed are kept and appended once it takes them (append-after-write.ts), so a
 * lane never stays in a state no event announced.
 */
import { canTransitionLane, type LaneState } from "@/lib/lane-state";
import { AppError } from "@/lib/errors";
import type { NewLaneEvent } from "@/lib/lane-events";
import { TaskPacketSchema, type TaskPacket } from "@/lib/task-packet";
import { appendAfterWrite, type StateWriteDeps } from "../events/append-after-write";
import type { Db } from "../store/db";
import { updateIfUnchanged } from "../store/guarded-update";
import type { Lane } from "../store/generated/client";

/** A Lane row with its task packet parsed. */
export type LaneRow = Omit<Lane, "packet"> & { packet: TaskPacket };

/** Columns a lane write may set (the packet is written once, at creation). */
export type LaneData = Partial<Omit<Lane, "id" | "state" | "stateVersion" | "packet">>;

/**
 * Packets kept parsed, by their JSON text: a lane's row is read several times over its start and
 * end, and zod parsing the packet each time was ~2.6 ms of the server's main thread per lane
 * (CPU profile of bench:board --only=create). Kept small: only lanes being worked on are read
 * again soon, and the server's RSS is budgeted.
 */
export const PACKETS_KEPT = 32;
const parsedPackets = new Map<string, TaskPacket>();

/** Freeze `value` and everything in it: a kept packet is shared by every reader of its row. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The task packet stored in a Lane row's `packet` column. Parsing is a function of the text
 * alone, so the result is kept by text (the last {@link PACKETS_KEPT}) and shared: it is frozen,
 * never to be changed in place.
 * @throws SyntaxError or ZodError when the stored JSON is not a valid packet.
 */
export function parseTaskPacket(json: string): TaskPacket {
  const kept = parsedPackets.get(json);
  if (kept) {
    parsedPackets.delete(json); // re-inserted: most recently used last
    parsedPackets.set(json, kept);
    return kept;
  }
  const packet = deepFreeze(TaskPacketSchema.parse(JSON.parse(json)));
  if (parsedPackets.size >= PACKETS_KEPT) parsedPackets.delete(parsedPackets.keys().next().value!);
  parsedPackets.set(json, packet);
  return packet;
}

/** A row as read from the database → {@link LaneRow}. @throws as {@link parseTaskPacket} */
export function toLaneRow(row: Lane): LaneRow {
  return { ...row, packet: parseTaskPacket(row.packet) };
}

/** The lane, or null if there is none. */
export async function findLane(db: Db, laneId: string): Promise<LaneRow | null> {
  const lane = await db.lane.findUnique({ where: { id: laneId } });
  return lane && toLaneRow(lane);
}

/** Write `data` to a lane (no state change: see {@link transitionLane}); returns the updated row. */
export async function updateLane(db: Db, laneId: string, data: LaneData): Promise<LaneRow> {
  return toLaneRow(await db.lane.update({ where: { id: laneId }, data }));
}

export interface LaneDeps extends StateWriteDeps {
  db: Db;
}

/** Load a lane or throw AppError("not_found"). */
export async function loadLane(db: Db, laneId: string): Promise<LaneRow> {
  const lane = await findLane(db, laneId);
  if (!lane) throw new AppError("not_found", `no lane with id ${laneId}`);
  return lane;
}

/**
 * Move `lane` (as the caller read it) to `to`, writing `data` in the same guarded update.
 * `closing` events (e.g. `lane.failed` with its reason) are appended with the
 * `lane.state_changed`, published together, so whoever sees the new state can read why.
 * @returns the updated row, or null if the lane changed meanwhile (the caller lost the race).
 * @throws Error for a transition the table forbids (a programming error); what the database
 *   throws when it refuses the state write (nothing changed); without `deps.supervisor`, what it
 *   throws when it refuses the events.
 */
export async function transitionLane(
  deps: LaneDeps,
  lane: Pick<LaneRow, "id" | "repoId" | "state" | "stateVersion">,
  to: LaneState,
  data: LaneData = {},
  closing: NewLaneEvent[] = [],
): Promise<LaneRow | null> {
  const from = lane.state as LaneState;
  if (!canTransitionLane(from, to)) throw new Error(`lane ${lane.id}: illegal transition ${from} → ${to}`);
  // One UPDATE … RETURNING: the row as written, no read back.
  const row = await updateIfUnchanged(() =>
    deps.db.lane.update({ where: { id: lane.id, state: from, stateVersion: lane.stateVersion }, data: { ...data, state: to, stateVersion: { increment: 1 } } }),
  );
  if (!row) return null;
  const stored = await appendAfterWrite(deps, `lane ${lane.id}'s ${from} → ${to} events`, [{ type: "lane.state_changed", laneId: lane.id, repoId: lane.repoId, payload: { from, to } }, ...closing]);
  // The database's trigger pointed the row at its newest event as these were stored.
  const newest = stored.findLast((e) => e.laneId === lane.id);
  return toLaneRow(newest ? { ...row, lastEventId: newest.id } : row);
}
