/**
 * Small, optimistic deltas from live lane events onto cached views, so a card reacts at once
 * while the (throttled) refetch brings the authoritative view. Pure functions: they return the
 * same object when an event changes nothing, which lets React Query skip re-renders.
 *
 * Only facts an event carries verbatim are patched (state, ahead/behind, checks, exit code,
 * last event); anything derived on the server (queue positions of other lanes, new lanes) is
 * left to the refetch.
 */
import type { BoardResponse, CheckResult, LaneView } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";

function withCheck(lane: LaneView, check: CheckResult): LaneView {
  return { ...lane, checks: { ...lane.checks, [check.level]: check } };
}

/** Apply one event to one lane view; returns `lane` itself when the event is not newer or not about this lane. */
export function applyLaneEvent(lane: LaneView, ev: LaneEvent): LaneView {
  if (ev.laneId !== lane.id) return lane;
  if (lane.lastEvent && ev.id <= lane.lastEvent.id) return lane;
  const next: LaneView = { ...lane, lastEvent: { id: ev.id, type: ev.type, at: ev.at } };
  switch (ev.type) {
    case "lane.state_changed":
      return { ...next, state: ev.payload.to, queuePosition: ev.payload.to === "queued" ? next.queuePosition : null };
    case "lane.queued":
      return { ...next, queuePosition: ev.payload.position };
    case "lane.started":
      return { ...next, currentProcessId: ev.payload.processId, attempt: ev.payload.attempt, startedAt: ev.at };
    case "lane.restarted":
      return { ...next, attempt: ev.payload.attempt };
    case "branch.freshness":
    case "branch.stale_against_main":
      return { ...next, ahead: ev.payload.ahead, behind: ev.payload.behind };
    case "check.started":
      return withCheck(next, { level: ev.payload.level, status: "running", command: ev.payload.command, exitCode: null, durationMs: null, at: ev.at });
    case "lane.green":
      return withCheck(next, { level: ev.payload.level, status: "green", command: ev.payload.command, exitCode: 0, durationMs: ev.payload.durationMs, at: ev.at });
    case "lane.red":
      return withCheck(next, {
        level: ev.payload.level,
        status: "red",
        command: ev.payload.command,
        exitCode: ev.payload.exitCode,
        durationMs: ev.payload.durationMs,
        at: ev.at,
      });
    case "lane.finished":
    case "lane.failed":
      return { ...next, lastExitCode: ev.payload.exitCode, endedAt: ev.at };
    default:
      return next;
  }
}

/** Apply one event to the board snapshot; returns `board` itself when nothing changed. */
export function applyBoardEvent(board: BoardResponse, ev: LaneEvent): BoardResponse {
  return applyBoardEvents(board, [ev]);
}

/**
 * Apply a batch of events to the board snapshot in one pass over its lanes (each lane's events
 * in id order); returns `board` itself when nothing changed. One new board per batch instead of
 * one per event: every new board re-renders the whole board.
 */
export function applyBoardEvents(board: BoardResponse, events: Iterable<LaneEvent>): BoardResponse {
  let next = board;
  const byLane = new Map<string, LaneEvent[]>();
  for (const ev of events) {
    if (ev.type === "repo.registered" && ev.repoId && !next.repos.some((r) => r.id === ev.repoId)) {
      const repo = { id: ev.repoId, path: ev.payload.path, name: ev.payload.name, mainBranch: ev.payload.mainBranch, createdAt: ev.at };
      next = { ...next, repos: [...next.repos, repo] };
    } else if (ev.laneId) {
      const list = byLane.get(ev.laneId);
      if (list) list.push(ev);
      else byLane.set(ev.laneId, [ev]);
    }
  }
  if (byLane.size === 0) return next;
  let changed = false;
  const lanes = next.lanes.map((lane) => {
    const laneEvents = byLane.get(lane.id);
    if (!laneEvents) return lane;
    const patched = laneEvents.sort((x, y) => x.id - y.id).reduce(applyLaneEvent, lane);
    if (patched !== lane) changed = true;
    return patched;
  });
  return changed ? { ...next, lanes } : next;
}

/** Whether a view the server sent is at least as new as the cached one (by the last event each has seen). */
export const isNewerView = (next: LaneView, cur: LaneView | undefined): boolean => !cur || (next.lastEvent?.id ?? 0) >= (cur.lastEvent?.id ?? 0);

/**
 * The board with `views` put in: each replaces its lane unless a live event already made the
 * cached one newer; lanes not on the board yet (new ones) go last, as the newest. Returns
 * `board` itself when no view changed anything.
 */
export function mergeLanes(board: BoardResponse, views: readonly LaneView[]): BoardResponse {
  const byId = new Map(views.map((v) => [v.id, v]));
  let changed = false;
  const lanes = board.lanes.map((l) => {
    const v = byId.get(l.id);
    if (!v) return l;
    byId.delete(l.id);
    if (v === l || !isNewerView(v, l)) return l;
    changed = true;
    return v;
  });
  if (byId.size) return { ...board, lanes: [...lanes, ...byId.values()] };
  return changed ? { ...board, lanes } : board;
}

/** Append an event to a lane's ascending event list if it is newer than the last one. */
export function appendLaneEvent(events: readonly LaneEvent[], ev: LaneEvent): readonly LaneEvent[] {
  const last = events[events.length - 1];
  if (last && ev.id <= last.id) return events;
  return [...events, ev];
}
