/**
 * Which lane events a reader wants (by lane, repo, type), as an in-memory predicate for live
 * events and as a Prisma `where` for the log: the two must agree.
 */
import type { LaneEvent } from "@/lib/lane-events";

/** Which events a reader wants; every field narrows, none means all. */
export interface EventFilter {
  laneId?: string;
  repoId?: string;
  /** Event types (lib/lane-events.ts), any of them. */
  types?: readonly string[];
}

/** True when `event` passes `filter` (the in-memory twin of {@link filterWhere}). */
export function matchesFilter(event: LaneEvent, filter: EventFilter): boolean {
  return (!filter.laneId || event.laneId === filter.laneId) && (!filter.repoId || event.repoId === filter.repoId) && (!filter.types?.length || filter.types.includes(event.type));
}

/** The same filter as a Prisma `where` for LaneEvent rows. */
export function filterWhere(filter: EventFilter) {
  return {
    ...(filter.laneId ? { laneId: filter.laneId } : {}),
    // Rows written before every event carried its repo are found through their lane.
    ...(filter.repoId ? { OR: [{ repoId: filter.repoId }, { lane: { repoId: filter.repoId } }] } : {}),
    ...(filter.types?.length ? { type: { in: [...filter.types] } } : {}),
  };
}

