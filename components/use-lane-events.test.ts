import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import type { LaneEvent } from "@/lib/lane-events";
import { appendLaneEvent } from "./lane-patch";
import { laneKeys } from "./query-keys";
import { loadLaneEvents } from "./use-lane-events";

const ev = (id: number): LaneEvent =>
  ({ id, v: 1, laneId: "L1", repoId: "R1", at: "2026-11-20T12:00:00.000Z", type: "lane.state_changed", payload: { from: "running", to: "checking" } }) as LaneEvent;

/** What the realtime client does with a live `lane:event` (realtime-client.ts). */
const live = (qc: QueryClient, e: LaneEvent) => qc.setQueryData<readonly LaneEvent[]>(laneKeys.events("L1"), (list) => (list ? appendLaneEvent(list, e) : list));

describe("loadLaneEvents", () => {
  it("a refetch keeps the live events appended while it ran, past what the server had read", async () => {
    const qc = new QueryClient();
    qc.setQueryData(laneKeys.events("L1"), [ev(1), ev(2)]);
    let answer: (list: readonly LaneEvent[]) => void = () => {};
    const server = () => new Promise<readonly LaneEvent[]>((r) => (answer = r));
    const refetch = qc.fetchQuery({ queryKey: laneKeys.events("L1"), queryFn: () => loadLaneEvents(qc, "L1", server) });
    // Stored after the server read its page, delivered live while the answer is on its way.
    live(qc, ev(4));
    live(qc, ev(5));
    answer([ev(1), ev(2), ev(3)]);
    await refetch;
    // The next live event is appended after them, as before.
    live(qc, ev(6));
    expect(qc.getQueryData<readonly LaneEvent[]>(laneKeys.events("L1"))!.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("a first load keeps the live events that came while it ran, which had no list to go to", async () => {
    const qc = new QueryClient();
    const recent: LaneEvent[] = [];
    let answer: (list: readonly LaneEvent[]) => void = () => {};
    const server = () => new Promise<readonly LaneEvent[]>((r) => (answer = r));
    const load = qc.fetchQuery({ queryKey: laneKeys.events("L1"), queryFn: () => loadLaneEvents(qc, "L1", server, () => recent) });
    // Stored after the server read its page, delivered live before the page arrived: no list yet,
    // so the realtime client keeps it only among its recent events.
    recent.push(ev(3));
    live(qc, ev(3));
    answer([ev(1), ev(2)]);
    await load;
    live(qc, ev(4));
    expect(qc.getQueryData<readonly LaneEvent[]>(laneKeys.events("L1"))!.map((e) => e.id)).toEqual([1, 2, 3, 4]);
  });

  it("a first load, or one that already has every event, is the server's list", async () => {
    const qc = new QueryClient();
    expect((await loadLaneEvents(qc, "L1", async () => [ev(1)])).map((e) => e.id)).toEqual([1]);
    qc.setQueryData(laneKeys.events("L1"), [ev(1), ev(2)]);
    expect((await loadLaneEvents(qc, "L1", async () => [ev(1), ev(2), ev(3)])).map((e) => e.id)).toEqual([1, 2, 3]);
  });
});
