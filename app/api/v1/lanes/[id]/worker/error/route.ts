import { LastErrorResponseSchema } from "@/lib/worker-api";
import { route } from "../../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/lanes/:id/worker/error → LastErrorResponse: the lane's most recent failure-like event, classified (null if none). */
export const GET = route<{ id: string }>(async ({ params, rt }) => LastErrorResponseSchema.parse(await rt.workers.lastError(params.id)), { scope: "read" });
