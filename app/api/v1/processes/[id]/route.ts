import { ProcessViewSchema } from "@/lib/api";
import { route } from "../../../_lib/handler";
import { ProcessParams } from "../../../_lib/params";

export const GET = route(async ({ params, rt }) => rt.processes.get(params.id), {
  scope: "read",
  summary: "One supervised process (environment secrets redacted)",
  params: ProcessParams,
  response: ProcessViewSchema,
});
