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
 * The list for `laneKeys.events(laneId)`: the fetched history, then the live events the cached list
 * already holds past its end. A refetch can run while `lane:event`s are appended to the list it
 * replaces (the server read its page before they were stored): without the merge they would drop
 * out of the list for good, and the next live event, appended after them, would hide the gap from
 * the realtime client's "is the list behind?" check (a conversation lost its agent's answer so).
 * @param fetch the history loader (tests pass their own)
 */
export async function loadLaneEvents(qc: QueryClient, laneId: string, fetch: (laneId: string) => Promise<readonly LaneEvent[]> = fetchAll): Promise<readonly LaneEvent[]> {
  const fetched = await fetch(laneId);
  const last = fetched.at(-1)?.id ?? 0;
  const newer = (qc.getQueryData<readonly LaneEvent[]>(laneKeys.events(laneId)) ?? []).filter((e) => e.id > last);
  return newer.length > 0 ? [...fetched, ...newer] : fetched;
}

export function useLaneEvents(laneId: string) {
  const qc = useQueryClient();
  return useQuery({ queryKey: laneKeys.events(laneId), queryFn: () => loadLaneEvents(qc, laneId) });
}
