/**
 * The board's writes beyond kill/restart: create a lane from a task packet, merge, trust. Same
 * error contract as api-client.ts (every function rejects with ApiError).
 */
import { z } from "zod";
import { LaneViewSchema, MergeResultSchema, type LaneView, type MergeResult } from "@/lib/api";
import type { TaskPacketInput } from "@/lib/task-packet";
import { request } from "./api-client";

const lanePath = (id: string) => `/api/v1/lanes/${encodeURIComponent(id)}`;

export const boardApi = {
  /** `POST /api/v1/lanes`: 422 with `details.fields` naming every field at fault; 409 `branch_exists` with `details.field`. */
  createLane: (packet: TaskPacketInput): Promise<LaneView> => request("/api/v1/lanes", LaneViewSchema, { method: "POST", body: packet }),
  /** `POST /api/v1/lanes/:id/merge` with the lane's own strategy and cleanup settings; 409/422 say why it cannot merge. */
  merge: (id: string): Promise<MergeResult> => request(`${lanePath(id)}/merge`, MergeResultSchema, { method: "POST", body: {} }),
  /** `POST /api/v1/lanes/:id/worker/trust { by: "human" }`. */
  trust: (id: string): Promise<unknown> => request(`${lanePath(id)}/worker/trust`, z.unknown(), { method: "POST", body: { by: "human" } }),
};
