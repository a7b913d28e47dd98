import { QueueQuerySchema } from "@/lib/scheduling";
import { readQuery, route } from "../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/scheduler/queue[?pool=&repoId=&limit=500] → QueueView: queued lanes in dispatch order with position and reason */
export const GET = route(async ({ req, rt }) => rt.scheduler.settings.queue(readQuery(req, QueueQuerySchema)), { scope: "read" });
