"use client";
/**
 * A lane's event history (oldest first) as one React Query entry, kept current by the realtime
 * client (it appends each `lane:event` to `laneKeys.events(id)`; see lane-patch.ts). Shared by
 * the event list, the conversation and the attempts view, so the page fetches it once.
 */
import { useQuery } from "@tanstack/react-query";
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

export function useLaneEvents(laneId: string) {
  return useQuery({ queryKey: laneKeys.events(laneId), queryFn: () => fetchAll(laneId) });
}
