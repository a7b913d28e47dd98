/**
 * The recovery and merge fields of `LaneView` (lib/api.ts), derived from each lane's events so they need no
 * column of their own and survive restarts:
 *
 * - `blocked`: the newest `lane.escalated` is newer than the lane's last restart and merge —
 *   automatic recovery gave up and a human must act;
 * - `merged`: the lane has a `lane.merged` event;
 * - `mergeReady`: true when `lane.merge.ready` is newer than anything that invalidates it (a new
 *   commit, the base moving ahead, a new attempt, a `lane.merge.blocked`), false when
 *   `lane.merge.blocked` is the newest of them, null when neither was evaluated since;
 *
 * (`baseMoved`, the fourth flag, is the freshness tracker's and is added when a view is composed.)
 * Two queries per batch of lanes: the newest id per (lane, type), then the escalations' payloads.
 */
import type { LaneView } from "@/lib/api";
import type { FailureClass } from "@/lib/lane-state";
import { inBatches } from "../store/batch";
import type { Db } from "../store/db";

const TYPES = ["lane.escalated", "lane.restarted", "lane.merged", "lane.merge.ready", "lane.merge.blocked", "lane.commit.created", "branch.stale_against_main", "lane.started"] as const;
type Tracked = (typeof TYPES)[number];

export type LaneFlags = Pick<LaneView, "blocked" | "merged" | "mergeReady">;

/** The flags of each lane, by lane id (every id in `laneIds` gets an entry). */
export async function laneFlags(db: Db, laneIds: readonly string[]): Promise<Map<string, LaneFlags>> {
  const out = new Map<string, LaneFlags>();
  if (laneIds.length === 0) return out;
  const groups = await inBatches(laneIds, (chunk) => db.laneEvent.groupBy({ by: ["laneId", "type"], where: { laneId: { in: chunk }, type: { in: [...TYPES] } }, _max: { id: true } }));
  const newest = new Map<string, Partial<Record<Tracked, number>>>();
  for (const g of groups) {
    if (!g.laneId || g._max.id === null) continue;
    const m = newest.get(g.laneId) ?? {};
    m[g.type as Tracked] = g._max.id;
    newest.set(g.laneId, m);
  }
  const escalationIds: number[] = [];
  for (const m of newest.values()) {
    const esc = m["lane.escalated"] ?? 0;
    if (esc > Math.max(m["lane.restarted"] ?? 0, m["lane.merged"] ?? 0)) escalationIds.push(esc);
  }
  const escalations = await inBatches(escalationIds, (chunk) => db.laneEvent.findMany({ where: { id: { in: chunk } }, select: { id: true, laneId: true, at: true, payload: true } }));
  const blockedBy = new Map(
    escalations.map((e) => {
      const p = JSON.parse(e.payload) as { reason: string; failureClass: FailureClass };
      return [e.laneId!, { reason: p.reason, failureClass: p.failureClass, eventId: e.id, at: e.at.toISOString() }] as const;
    }),
  );
  for (const id of laneIds) {
    const m = newest.get(id) ?? {};
    const ready = m["lane.merge.ready"] ?? 0;
    const notReady = m["lane.merge.blocked"] ?? 0;
    const invalidated = Math.max(m["lane.commit.created"] ?? 0, m["branch.stale_against_main"] ?? 0, m["lane.started"] ?? 0);
    const merged = (m["lane.merged"] ?? 0) > 0;
    let mergeReady: boolean | null = null;
    if (!merged && ready > Math.max(notReady, invalidated)) mergeReady = true;
    else if (!merged && notReady > Math.max(ready, invalidated)) mergeReady = false;
    out.set(id, { blocked: blockedBy.get(id) ?? null, merged, mergeReady });
  }
  return out;
}
