/**
 * The browser's client for Laneboard's HTTP API (`/api/v1`, same origin). Every response body is
 * validated with the shared zod schemas from `lib/api.ts`, so a server/browser mismatch shows up
 * as a readable error instead of `undefined` deep inside a component.
 *
 * Errors: every function rejects with {@link ApiError}. Server errors carry the server's
 * `{ error: { code, message } }`; a network failure is `code: "network"`, status 0; a body that
 * does not match its schema is `code: "bad_response"`.
 */
import type { z } from "zod";
import {
  BoardResponseSchema,
  EventsResponseSchema,
  LaneLogsResponseSchema,
  LaneViewSchema,
  RepoViewSchema,
  type BoardResponse,
  type EventsResponse,
  type LaneLogsResponse,
  type LaneView,
  type RegisterRepoBody,
  type RepoView,
} from "@/lib/api";
import { ApiError } from "@/lib/api-error";
import { LanePageSchema, MergeReadinessSchema, MergeResultSchema, ProcessViewSchema, type MergeReadiness, type MergeResult, type ProcessView } from "@/lib/api";
import { LogRangeSchema, type LogRange } from "@/lib/log-range";
import { CleanupResultSchema, LaneAttemptsSchema, LaneDiffFileSchema, LaneDiffSchema, type CleanupResult, type LaneAttempts, type LaneDiff, type LaneDiffFile } from "@/lib/review-api";
import { PromptResponseSchema, type PromptResponse } from "@/lib/worker-api";

export { ApiError };

/** The message to show for any thrown value (ApiError or not). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

function readErrorBody(body: unknown): { code: string; message: string; details?: Record<string, unknown> } | null {
  if (typeof body !== "object" || body === null) return null;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return null;
  const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
  if (typeof message !== "string") return null;
  return { code: typeof code === "string" ? code : "error", message, ...(typeof details === "object" && details !== null ? { details: details as Record<string, unknown> } : {}) };
}

/**
 * Fetch `path` and parse the JSON body with `schema`.
 * @throws ApiError (see module docs)
 */
export async function request<S extends z.ZodType>(path: string, schema: S, init?: { method: "POST" | "PUT" | "DELETE"; body?: unknown }): Promise<z.infer<S>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init?.method ?? "GET",
      headers: init ? { "content-type": "application/json", accept: "application/json" } : { accept: "application/json" },
      body: init ? JSON.stringify(init.body ?? {}) : undefined,
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "Cannot reach the Laneboard server.");
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const err = readErrorBody(body);
    throw new ApiError(res.status, err?.code ?? "http_error", err?.message ?? `Request failed: HTTP ${res.status} ${res.statusText}`.trim(), err?.details);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new ApiError(res.status, "bad_response", `Unexpected response from ${path}: ${parsed.error.issues[0]?.message ?? "invalid body"}`);
  }
  return parsed.data;
}

const lanePath = (id: string) => `/api/v1/lanes/${encodeURIComponent(id)}`;

export const api = {
  /** `GET /api/v1/board`: every repo and lane, plus the event cursor of the snapshot. */
  board: (): Promise<BoardResponse> => request("/api/v1/board", BoardResponseSchema),
  /** `GET /api/v1/lanes?ids=`: the views of these lanes (at most MAX_LANE_IDS; unknown ids left out). */
  lanesByIds: async (ids: readonly string[]): Promise<LaneView[]> =>
    (await request(`/api/v1/lanes?limit=${ids.length}&ids=${ids.map(encodeURIComponent).join(",")}`, LanePageSchema)).items,
  /** `GET /api/v1/lanes/:id`. */
  lane: (id: string): Promise<LaneView> => request(lanePath(id), LaneViewSchema),
  /** `GET /api/v1/lanes/:id/logs?limit=[&processId=]`: the newest `limit` lines (1..100000) of the current attempt, or of one process. */
  laneLogs: (id: string, limit: number, processId?: string): Promise<LaneLogsResponse> =>
    request(`${lanePath(id)}/logs?limit=${limit}${processId ? `&processId=${encodeURIComponent(processId)}` : ""}`, LaneLogsResponseSchema),
  /** `GET /api/v1/processes/:id/logs?stream=&from=&to=&limit=`: whole lines of one stream from a byte offset. */
  processLogRange: (id: string, q: { stream: "stdout" | "stderr"; from?: number; to?: number; fromLine?: number; limit: number }): Promise<LogRange> => {
    const p = new URLSearchParams({ stream: q.stream, limit: String(q.limit) });
    if (q.from !== undefined) p.set("from", String(q.from));
    if (q.to !== undefined) p.set("to", String(q.to));
    if (q.fromLine !== undefined) p.set("fromLine", String(q.fromLine));
    return request(`/api/v1/processes/${encodeURIComponent(id)}/logs?${p.toString()}`, LogRangeSchema);
  },
  /** `GET /api/v1/processes/:id`. */
  process: (id: string): Promise<ProcessView> => request(`/api/v1/processes/${encodeURIComponent(id)}`, ProcessViewSchema),
  /** `GET /api/v1/lanes/:id/attempts`: every attempt with its processes, checks and usage. */
  attempts: (id: string): Promise<LaneAttempts> => request(`${lanePath(id)}/attempts`, LaneAttemptsSchema),
  /** `GET /api/v1/lanes/:id/diff`: files the branch changed against its base. */
  diff: (id: string): Promise<LaneDiff> => request(`${lanePath(id)}/diff`, LaneDiffSchema),
  /** `GET /api/v1/lanes/:id/diff/file?path=&base=&head=`: one file's unified patch. */
  diffFile: (id: string, path: string, at: { base: string; head: string }): Promise<LaneDiffFile> =>
    request(`${lanePath(id)}/diff/file?${new URLSearchParams({ path, base: at.base, head: at.head }).toString()}`, LaneDiffFileSchema),
  /** `GET /api/v1/lanes/:id/merge`: merge readiness, computed now. */
  mergeReadiness: (id: string): Promise<MergeReadiness> => request(`${lanePath(id)}/merge`, MergeReadinessSchema),
  /** `POST /api/v1/lanes/:id/merge { cleanup: false }`: land the lane on its base (cleanup is offered afterwards). */
  merge: (id: string): Promise<MergeResult> => request(`${lanePath(id)}/merge`, MergeResultSchema, { method: "POST", body: { cleanup: false } }),
  /** `POST /api/v1/lanes/:id/cleanup`: remove a merged lane's worktree and branch. */
  cleanup: (id: string): Promise<CleanupResult> => request(`${lanePath(id)}/cleanup`, CleanupResultSchema, { method: "POST", body: { deleteBranch: true } }),
  /** `POST /api/v1/lanes/:id/worker/prompt { text }`: a prompt to a ready agent, or a follow-up to an ended one. */
  prompt: (id: string, text: string): Promise<PromptResponse> => request(`${lanePath(id)}/worker/prompt`, PromptResponseSchema, { method: "POST", body: { text } }),
  /** `GET /api/v1/events?after=&limit=[&laneId=]`: events with id > after, oldest first. */
  events: (after: number, opts: { laneId?: string; limit?: number } = {}): Promise<EventsResponse> => {
    const q = new URLSearchParams({ after: String(after), limit: String(opts.limit ?? 500) });
    if (opts.laneId) q.set("laneId", opts.laneId);
    return request(`/api/v1/events?${q.toString()}`, EventsResponseSchema);
  },
  /** `POST /api/v1/lanes/:id/kill` (SIGTERM, then SIGKILL after the server's grace period). */
  kill: (id: string): Promise<LaneView> => request(`${lanePath(id)}/kill`, LaneViewSchema, { method: "POST", body: {} }),
  /** `POST /api/v1/lanes/:id/restart`: re-queue a terminal lane. */
  restart: (id: string): Promise<LaneView> => request(`${lanePath(id)}/restart`, LaneViewSchema, { method: "POST", body: {} }),
  /** `POST /api/v1/repos`. */
  registerRepo: (body: RegisterRepoBody): Promise<RepoView> => request("/api/v1/repos", RepoViewSchema, { method: "POST", body }),
};
