/**
 * Path parameters of the `/api/v1` routes (the `[id]` folders), declared once so every route
 * parses and documents them alike. Length and NUL checks run before these (handler.ts).
 */
import { z } from "zod";

export const LaneParams = z.object({ id: z.string().describe("Lane id") });
export const ProcessParams = z.object({ id: z.string().describe("Process id") });
export const RepoParams = z.object({ id: z.string().describe("Repo id") });
export const WebhookParams = RepoParams.extend({ webhookId: z.string().describe("Webhook id") });
export const TokenParams = z.object({ id: z.string().describe("Token id") });
