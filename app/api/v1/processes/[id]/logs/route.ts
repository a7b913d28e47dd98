import { ProcessLogsQuerySchema } from "@/lib/api";
import { readQuery, route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/processes/:id/logs?stream=&from=&to=&fromLine=&limit= → lines by byte or line range; 416 past the end. */
export const GET = route<{ id: string }>(async ({ req, params, rt }) => rt.supervisor.readLog(params.id, readQuery(req, ProcessLogsQuerySchema)), { scope: "read" });
