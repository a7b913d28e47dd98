import { RateLimitsUpdateSchema } from "@/lib/scheduling";
import { readBody, route } from "../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/scheduler/limits → { [engine]: { limit, retryAt } } */
export const GET = route(async ({ rt }) => rt.scheduler.settings.rateLimits(), { scope: "read" });

/** PUT /api/v1/scheduler/limits { [engine]: { requestsPerMinute, burst? } | null } → limits; a lane start takes one request. */
export const PUT = route(async ({ req, rt }) => rt.scheduler.settings.setRateLimits(await readBody(req, RateLimitsUpdateSchema)), { scope: "admin" });
