import { RateLimitsUpdateSchema, RateLimitsViewSchema } from "@/lib/scheduling";
import { settingRoutes } from "../../../_lib/setting-routes";

export const { GET, PUT } = settingRoutes({ view: RateLimitsViewSchema, update: RateLimitsUpdateSchema }, {
  get: { summary: "Rate limits per engine and when a held engine may start again", read: (rt) => rt.scheduler.settings.rateLimits() },
  put: { summary: "Set or clear rate limits per engine (a lane start takes one request)", write: (rt, body) => rt.scheduler.settings.setRateLimits(body) },
});
