/**
 * Waiting for a lane without polling, for the CLI and the MCP server: the server's long poll
 * `GET /api/v1/lanes/:id/await?state=&timeoutMs=` (contract and targets in lib/lane-await.ts).
 * One call waits at most {@link MAX_AWAIT_MS}, so a longer wait is several calls in a row, each
 * for what is left; the answer is the server's, with `waitedMs` counted over all of them.
 */
import { MAX_AWAIT_MS, type AwaitLaneResponse, type AwaitTarget } from "@/lib/lane-await";
import type { LaneboardApi } from "./laneboard-api";

/**
 * @param targets lane states, worker states, `ready_for_prompt`, `ended`, `stalled` (any of them)
 * @param timeoutMs how long to wait at most (ms, ≥ 0); the outcome is `timeout` when it ran out
 * @param now clock (ms), for the total `waitedMs`
 * @returns `reached` (`matched` says which targets hold), `ended` (ended otherwise) or `timeout`
 * @throws ApiError not_found (unknown lane), invalid_input, unauthorized/forbidden, unreachable
 */
export async function awaitLane(api: LaneboardApi, laneId: string, targets: readonly AwaitTarget[], timeoutMs: number, now: () => number = Date.now): Promise<AwaitLaneResponse> {
  const t0 = now();
  for (;;) {
    const left = Math.max(0, Math.round(timeoutMs - (now() - t0)));
    const answer = await api.awaitLane(laneId, targets, Math.min(left, MAX_AWAIT_MS));
    const waitedMs = Math.max(0, now() - t0);
    if (answer.outcome !== "timeout" || waitedMs >= timeoutMs) return { ...answer, waitedMs };
  }
}
