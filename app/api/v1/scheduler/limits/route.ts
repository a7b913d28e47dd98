import { RateLimitsUpdateSchema, RateLimitsViewSchema } from "@/lib/scheduling";
import { route } from "../../../_lib/handler";

export const GET = route(async ({ rt }) => rt.scheduler.settings.rateLimits(), {
  scope: "read",
  summary: "Rate limits per engine and when a held engine may start again",
  response: RateLimitsViewSchema,
});

export const PUT = route(async ({ body, rt }) => rt.scheduler.settings.setRateLimits(body), {
  scope: "admin",
  summary: "Set or clear rate limits per engine (a lane start takes one request)",
  body: RateLimitsUpdateSchema,
  response: RateLimitsViewSchema,
});
