/**
 * Per-repo webhooks (server/webhooks): request bodies and views. A webhook POSTs each matching
 * lane event, as the same JSON the event log serves (lib/lane-events.ts), to its URL; failed
 * attempts are retried with exponential backoff and every delivery is kept with its outcome.
 */
import { z } from "zod";
import { LANE_EVENT_TYPES } from "./lane-events";

export const WebhookCreateBodySchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
      .max(2000)
      .describe("Where to POST the lane events, e.g. a Slack or Discord incoming-webhook bridge"),
    events: z
      .array(z.enum(LANE_EVENT_TYPES as [string, ...string[]]))
      .max(200)
      .default([])
      .describe("Lane event types to send; empty = those that need a person (trust, blocked, escalated, red, failed, misdelivered, merge-ready)"),
  })
  .strict();
export type WebhookCreateBody = z.input<typeof WebhookCreateBodySchema>;

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;

export const WebhookDeliveryViewSchema = z.object({
  id: z.number().int(),
  eventId: z.number().int(),
  eventType: z.string(),
  laneId: z.string().nullable(),
  status: z.enum(WEBHOOK_DELIVERY_STATUSES),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
});
export type WebhookDeliveryView = z.infer<typeof WebhookDeliveryViewSchema>;

export const WebhookViewSchema = z.object({
  id: z.string(),
  repoId: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  createdAt: z.string(),
  /** The newest deliveries, newest first (at most 20). */
  deliveries: z.array(WebhookDeliveryViewSchema),
});
export type WebhookView = z.infer<typeof WebhookViewSchema>;

export const WebhookListSchema = z.object({ webhooks: z.array(WebhookViewSchema) });
export type WebhookList = z.infer<typeof WebhookListSchema>;

/** `DELETE /api/v1/repos/:id/webhooks/:webhookId`. */
export const WebhookDeletedSchema = z.object({ deleted: z.literal(true) });
export type WebhookDeleted = z.infer<typeof WebhookDeletedSchema>;
