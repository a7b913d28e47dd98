import { route } from "../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/processes/:id → ProcessView (env secrets redacted) */
export const GET = route<{ id: string }>(async ({ params, rt }) => rt.supervisor.get(params.id), { scope: "read" });
