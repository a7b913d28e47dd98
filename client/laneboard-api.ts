/**
 * The control loop as typed calls, shared by the CLI and the MCP server so both speak to the
 * same routes the same way. Each call is one HTTP request (see README's API table), except
 * `listLanes` and `listRepos`, which follow the pages; inputs are the API's own zod-typed bodies
 * (lib/api.ts, lib/task-packet.ts, lib/worker-api.ts).
 */
import type { EventsResponse, KillBodySchema, LaneLogsResponse, LaneView, MergeBody, MergeReadiness, MergeResult, RepoView } from "@/lib/api";
import type { AwaitLaneResponse, AwaitTarget } from "@/lib/lane-await";
import { MAX_PAGE_LIMIT, type Page } from "@/lib/paging";
import type { LaneSummary } from "@/lib/lane-summary";
import type { TaskPacketInput } from "@/lib/task-packet";
import type { PromptResponse, WorkerStateResponse } from "@/lib/worker-api";
import type { z } from "zod";
import type { LaneboardClient } from "./http";

const lane = (id: string) => `/api/v1/lanes/${encodeURIComponent(id)}`;

export type LaneboardApi = ReturnType<typeof laneboardApi>;

/** Every item of a cursor-paged list (lib/paging.ts), following `next` until the last page. */
async function allPages<T>(page: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    items.push(...p.items);
    cursor = p.next ?? undefined;
  } while (cursor);
  return items;
}

/** Calls over `c`; every one throws ApiError with the API's code on failure. */
export function laneboardApi(c: LaneboardClient) {
  return {
    client: c,
    /** One page of lanes in creation order (`next`: the cursor of the following page, null on the last). */
    lanePage: (q: { repoId?: string; limit?: number; cursor?: string } = {}) => c.request<Page<LaneView>>("GET", "/api/v1/lanes", { query: q }),
    /** Every lane, page after page. */
    listLanes: (q: { repoId?: string } = {}) => allPages((cursor) => c.request<Page<LaneView>>("GET", "/api/v1/lanes", { query: { ...q, limit: MAX_PAGE_LIMIT, cursor } })),
    getLane: (id: string) => c.request<LaneView>("GET", lane(id)),
    createLane: (packet: TaskPacketInput, idempotencyKey?: string) => c.request<LaneView>("POST", "/api/v1/lanes", { body: packet, idempotencyKey }),
    kill: (id: string, body: z.input<typeof KillBodySchema> = {}) => c.request<LaneView>("POST", `${lane(id)}/kill`, { body }),
    restart: (id: string, idempotencyKey?: string) => c.request<LaneView>("POST", `${lane(id)}/restart`, { body: {}, idempotencyKey }),
    mergeReadiness: (id: string) => c.request<MergeReadiness>("GET", `${lane(id)}/merge`),
    merge: (id: string, body: Partial<MergeBody> = {}, idempotencyKey?: string) => c.request<MergeResult>("POST", `${lane(id)}/merge`, { body, idempotencyKey }),
    laneLogs: (id: string, limit: number) => c.request<LaneLogsResponse>("GET", `${lane(id)}/logs`, { query: { limit } }),
    events: (q: { after?: number; laneId?: string; repoId?: string; types?: string; limit?: number; order?: "asc" | "desc" }) => c.request<EventsResponse>("GET", "/api/v1/events", { query: q }),
    prompt: (id: string, text: string, idempotencyKey?: string) => c.request<PromptResponse>("POST", `${lane(id)}/worker/prompt`, { body: { text }, idempotencyKey }),
    workerState: (id: string) => c.request<WorkerStateResponse>("GET", `${lane(id)}/worker`),
    lastError: (id: string) => c.request<unknown>("GET", `${lane(id)}/worker/error`),
    summary: (id: string) => c.request<LaneSummary>("GET", `${lane(id)}/summary`),
    repoPage: (q: { limit?: number; cursor?: string } = {}) => c.request<Page<RepoView>>("GET", "/api/v1/repos", { query: q }),
    listRepos: () => allPages((cursor) => c.request<Page<RepoView>>("GET", "/api/v1/repos", { query: { limit: MAX_PAGE_LIMIT, cursor } })),
    /** One long poll (≤ MAX_AWAIT_MS); ./await-lane.ts waits longer. */
    awaitLane: (id: string, targets: readonly AwaitTarget[], timeoutMs: number) => c.request<AwaitLaneResponse>("GET", `${lane(id)}/await`, { query: { state: targets.join(","), timeoutMs } }),
    registerRepo: (body: { path: string; mainBranch?: string }, idempotencyKey?: string) => c.request<RepoView>("POST", "/api/v1/repos", { body, idempotencyKey }),
    caps: () => c.request<unknown>("GET", "/api/v1/scheduler/caps"),
    setCaps: (body: unknown) => c.request<unknown>("PUT", "/api/v1/scheduler/caps", { body }),
    listTokens: () => c.request<unknown>("GET", "/api/v1/tokens"),
    createToken: (body: { name: string; scopes: string[]; repos?: string[]; expiresAt?: string }) => c.request<unknown>("POST", "/api/v1/tokens", { body }),
    revokeToken: (id: string) => c.request<unknown>("DELETE", `/api/v1/tokens/${encodeURIComponent(id)}`),
  };
}
