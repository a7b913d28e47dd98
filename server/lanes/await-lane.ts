/**
 * Await a lane's state (`GET /api/v1/lanes/:id/await`, contract in lib/lane-await.ts): which of
 * the asked targets hold for a lane view, and the long poll that re-checks on the lane's events.
 */
import type { LaneView } from "@/lib/api";
import { AWAIT_WORKER_STATES, type AwaitLaneResponse, type AwaitTarget } from "@/lib/lane-await";
import { TERMINAL_LANE_STATES, type LaneState } from "@/lib/lane-state";
import type { EventBus } from "../events/event-bus";
import { pollOnLaneEvents } from "../events/long-poll";
import type { Db } from "../store/db";

const WORKER_TARGETS: ReadonlySet<string> = new Set(AWAIT_WORKER_STATES.filter((s) => s !== "ready_for_prompt"));
const CLOSING = ["lane.finished", "lane.failed", "lane.killed"];

/**
 * The asked targets that hold for `lane`. Pure.
 * @param closed the lane's closing event for its current run is recorded (only read for ended lanes)
 */
export function matchTargets(lane: LaneView, targets: readonly AwaitTarget[], closed: boolean): AwaitTarget[] {
  const ended = TERMINAL_LANE_STATES.has(lane.state) && closed;
  const current = lane.worker && lane.worker.attempt === lane.attempt && lane.state !== "queued" ? lane.worker : null;
  return targets.filter((t) => {
    if (t === "ended") return ended;
    if (t === "stalled") return !!lane.summary?.stalled;
    if (t === "ready_for_prompt") return lane.worker?.acceptsPrompt === true && (!TERMINAL_LANE_STATES.has(lane.state) || closed);
    if (WORKER_TARGETS.has(t)) return !TERMINAL_LANE_STATES.has(lane.state) && current?.state === t;
    return lane.state === t && (!TERMINAL_LANE_STATES.has(t as LaneState) || closed);
  });
}

export interface LaneAwaiterDeps {
  db: Db;
  bus: EventBus;
  lanes: { get(laneId: string): Promise<LaneView> };
  /** Clock (ms); default Date.now. */
  now?: () => number;
}

export class LaneAwaiter {
  constructor(private readonly deps: LaneAwaiterDeps) {}

  /**
   * Long poll until one of `targets` holds, the lane ended elsewhere, or `timeoutMs` passed.
   * @throws AppError not_found
   */
  await(laneId: string, targets: readonly AwaitTarget[], timeoutMs: number): Promise<AwaitLaneResponse> {
    const now = this.deps.now ?? Date.now;
    const t0 = now();
    return pollOnLaneEvents(this.deps.bus, laneId, timeoutMs, async (timedOut) => {
      // The closing event first, then the view: closed only once the view (its summary) has
      // folded that event in, so the answer already says why the lane ended. If the event is
      // stored but not yet published, its publication wakes this poll again.
      const closing = await this.#closingEventId(laneId);
      const lane = await this.deps.lanes.get(laneId);
      const closed = TERMINAL_LANE_STATES.has(lane.state) && closing !== null && (lane.summary?.eventId ?? 0) >= closing;
      const matched = matchTargets(lane, targets, closed);
      const outcome = matched.length > 0 ? "reached" : closed ? "ended" : timedOut ? "timeout" : null;
      return outcome ? { laneId, outcome, matched, waitedMs: Math.max(0, now() - t0), lane } : null;
    });
  }

  /** The id of the lane's newest closing event if it is newer than its newest start or restart, else null. */
  async #closingEventId(laneId: string): Promise<number | null> {
    const newest = await this.deps.db.laneEvent.findFirst({
      where: { laneId, type: { in: [...CLOSING, "lane.started", "lane.restarted"] } },
      orderBy: { id: "desc" },
      select: { id: true, type: true },
    });
    return newest && CLOSING.includes(newest.type) ? newest.id : null;
  }
}
