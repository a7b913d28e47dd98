import { ProcessLogsQuerySchema } from "@/lib/api";
import { LogRangeSchema } from "@/lib/log-range";
import { route } from "../../../../_lib/handler";
import { ProcessParams } from "../../../../_lib/params";

export const GET = route(async ({ params, query, rt }) => rt.processes.readLog(params.id, query), {
  scope: "read",
  summary: "Whole lines of one output stream, by byte or line range",
  description: "Continue from `to`; 416 `range_not_satisfiable` when `from` is past the end.",
  params: ProcessParams,
  query: ProcessLogsQuerySchema,
  response: LogRangeSchema,
  errors: ["range_not_satisfiable"],
});
