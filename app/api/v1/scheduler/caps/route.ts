import { CapsUpdateSchema } from "@/lib/scheduling";
import { readBody, route } from "../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/scheduler/caps → CapsView (caps in force, running and queued counts per pool) */
export const GET = route(async ({ rt }) => rt.scheduler.settings.caps(), { scope: "read" });

/**
 * PUT /api/v1/scheduler/caps { global?, perRepo?, repos? } → CapsView. Merges: absent parts are
 * unchanged, `repos[id] = null` drops a repo's overrides. Lowering a cap never stops running work.
 * 422 naming the field (e.g. `global.agent`) for a negative or non-integer cap; nothing changes then.
 */
export const PUT = route(async ({ req, rt }) => rt.scheduler.settings.setCaps(await readBody(req, CapsUpdateSchema)), { scope: "admin" });
