/**
 * The settings page's API calls: caps, budgets, a repo's policy and its webhooks. Same error
 * contract as api-client.ts (ApiError with the server's code, message and details).
 */
import { z } from "zod";
import { PolicyViewSchema, type PolicyView } from "@/lib/api";
import { BudgetsViewSchema, CapsViewSchema, type BudgetsView, type CapsUpdate, type CapsView } from "@/lib/scheduling";
import { WebhookListSchema, WebhookViewSchema, type WebhookCreateBody, type WebhookList, type WebhookView } from "@/lib/webhooks";
import { request } from "./api-client";

const repoPath = (id: string) => `/api/v1/repos/${encodeURIComponent(id)}`;

export const settingsApi = {
  caps: (): Promise<CapsView> => request("/api/v1/scheduler/caps", CapsViewSchema),
  /** 422 naming the field (e.g. `global.agent`) for a negative or non-integer cap; nothing changes then. */
  setCaps: (update: CapsUpdate): Promise<CapsView> => request("/api/v1/scheduler/caps", CapsViewSchema, { method: "PUT", body: update }),
  budgets: (): Promise<BudgetsView> => request("/api/v1/scheduler/budgets", BudgetsViewSchema),
  setBudgets: (update: unknown): Promise<BudgetsView> => request("/api/v1/scheduler/budgets", BudgetsViewSchema, { method: "PUT", body: update }),
  policy: (repoId: string): Promise<PolicyView> => request(`${repoPath(repoId)}/policy`, PolicyViewSchema),
  /** 422 with `details.errors: [{ line, column, message, path }]`; the previous policy stays in force. */
  setPolicy: (repoId: string, text: string): Promise<PolicyView> => request(`${repoPath(repoId)}/policy`, PolicyViewSchema, { method: "PUT", body: { text } }),
  webhooks: (repoId: string): Promise<WebhookList> => request(`${repoPath(repoId)}/webhooks`, WebhookListSchema),
  addWebhook: (repoId: string, body: WebhookCreateBody): Promise<WebhookView> => request(`${repoPath(repoId)}/webhooks`, WebhookViewSchema, { method: "POST", body }),
  removeWebhook: (repoId: string, id: string): Promise<unknown> => request(`${repoPath(repoId)}/webhooks/${encodeURIComponent(id)}`, z.unknown(), { method: "DELETE" }),
};

export const settingsKeys = {
  caps: ["settings", "caps"] as const,
  budgets: ["settings", "budgets"] as const,
  policy: (repoId: string) => ["settings", "policy", repoId] as const,
  webhooks: (repoId: string) => ["settings", "webhooks", repoId] as const,
};
