"use client";
/**
 * A lane's event history (oldest first) as one React Query entry, kept current by the realtime
 * client (it appends each `lane:event` to `laneKeys.events(id)`; see lane-patch.ts). Shared by
 * the event list, the conversation and the attempts view, so the page fetches it once.
 */
import { type QueryClient, useQuery, useQueryClient } from "@tanstack/react-query";
import type { LaneEvent } from "@/lib/lane-events";
import { api } from "./api-client";
import { laneKeys } from "./query-keys";
import { useRealtime } from "./realtime-context";

/** Events per page, and at most this many pages (a lane has far fewer events). */
const PAGE = 5_000;
const MAX_PAGES = 10;

async function fetchAll(laneId: string): Promise<readonly LaneEvent[]> {
  const out: LaneEvent[] = [];
  let after = 0;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await api.events(after, { laneId, limit: PAGE });
    out.push(...(page.events as LaneEvent[]));
    if (page.events.length < PAGE) break;
    after = page.cursor;
  }
  return out;
}

/**
 * The list for `laneKeys.events(laneId)`: the fetched history, then the live events past its end
 * that the cached list or the realtime client (`live`) already holds. A load can run while
 * `lane:event`s arrive (the server read its page before they were stored). A refetch's old list
 * gets them appended, but a first load has no list yet, so the realtime client has nowhere to
 * put them and they are only in its recent events. Without the merge they would drop out of the
 * list for good, and the next live event, appended after them, would hide the gap from the
 * realtime client's "is the list behind?" check (a conversation lost its agent's answer so; a
 * check during a first load cannot help, as invalidating a query with no data joins its fetch).
 * @param fetch the history loader (tests pass their own)
 * @param live the lane's recent live events, oldest first (RealtimeClient.recentLaneEvents)
 */
export async function loadLaneEvents(
  qc: QueryClient,
  laneId: string,
  fetch: (laneId: string) => Promise<readonly LaneEvent[]> = fetchAll,
  live: () => readonly LaneEvent[] = () => [],
): Promise<readonly LaneEvent[]> {
  const fetched = await fetch(laneId);
  const last = fetched.at(-1)?.id ?? 0;
  const newer = new Map<number, LaneEvent>();
  for (const e of [...(qc.getQueryData<readonly LaneEvent[]>(laneKeys.events(laneId)) ?? []), ...live()]) if (e.id > last) newer.set(e.id, e);
  return newer.size > 0 ? [...fetched, ...[...newer.values()].sort((a, b) => a.id - b.id)] : fetched;
}

export function useLaneEvents(laneId: string) {
  const qc = useQueryClient();
  const realtime = useRealtime();
  return useQuery({ queryKey: laneKeys.events(laneId), queryFn: () => loadLaneEvents(qc, laneId, fetchAll, () => realtime.recentLaneEvents(laneId)) });
}
