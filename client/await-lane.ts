/**
 * Waiting for a lane to settle without polling: `ready_for_prompt` (its worker takes a prompt
 * now) or `finished` (its run has ended: finished, failed, killed or lost).
 *
 * Asks the server's long poll `GET /api/v1/lanes/:id/await?state=&timeout=` first. A server
 * without that route (an older one) answers 404 for an existing lane; then it follows the lane's
 * event stream (SSE) from the lane's newest event and re-reads the lane on each event, so
 * nothing happens between the read and the subscription unseen.
 */
import type { LaneView } from "@/lib/api";
import { ApiError } from "@/lib/api-error";
import type { LaneboardApi } from "./laneboard-api";
import { followSse } from "./sse";

export const AWAIT_STATES = ["ready_for_prompt", "finished"] as const;
export type AwaitState = (typeof AWAIT_STATES)[number];

export interface AwaitResult {
  /** The lane is in the awaited state. */
  reached: boolean;
  /** The time ran out first. */
  timedOut: boolean;
  /** The lane ended without reaching it (awaiting ready_for_prompt), or ended otherwise than `finished`. */
  ended: boolean;
  lane: LaneView;
}

const TERMINAL = ["finished", "failed", "killed", "lost"];

/** Where `lane` stands against `state`: null while it is still on its way. */
export function judge(lane: LaneView, state: AwaitState): Omit<AwaitResult, "timedOut" | "lane"> | null {
  if (state === "ready_for_prompt" && lane.worker?.state === "ready_for_prompt") return { reached: true, ended: false };
  if (TERMINAL.includes(lane.state)) return state === "finished" && lane.state === "finished" ? { reached: true, ended: false } : { reached: false, ended: true };
  return null;
}

/**
 * @param timeoutMs how long to wait at most (ms)
 * @throws ApiError not_found (unknown lane), unauthorized/forbidden, unreachable
 */
export async function awaitLane(api: LaneboardApi, laneId: string, state: AwaitState, timeoutMs: number): Promise<AwaitResult> {
  try {
    const answer = await api.client.request<{ lane?: LaneView; timedOut?: boolean }>("GET", `/api/v1/lanes/${encodeURIComponent(laneId)}/await`, { query: { state, timeout: timeoutMs } });
    const lane = answer.lane ?? (await api.getLane(laneId));
    return { ...(judge(lane, state) ?? { reached: false, ended: false }), timedOut: answer.timedOut === true, lane };
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 405)) throw err;
  }
  // No long-poll route: follow the lane's events (throws not_found for an unknown lane).
  let lane = await api.getLane(laneId);
  const settled = judge(lane, state);
  if (settled) return { ...settled, timedOut: false, lane };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const url = api.client.urlFor("/api/v1/events/stream", { laneId, after: lane.lastEvent?.id ?? 0 });
    for await (const message of followSse(url, { headers: api.client.headers(), signal: abort.signal })) {
      void message;
      lane = await api.getLane(laneId);
      const now = judge(lane, state);
      if (now) return { ...now, timedOut: false, lane };
    }
  } finally {
    clearTimeout(timer);
  }
  return { reached: false, ended: false, timedOut: true, lane: await api.getLane(laneId) };
}
