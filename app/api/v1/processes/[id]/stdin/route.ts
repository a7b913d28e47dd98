import { StdinBodySchema } from "@/lib/api";
import { readBody, route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** POST /api/v1/processes/:id/stdin { data } → { ok: true }; 409 not_running for a finished process. */
export const POST = route<{ id: string }>(async ({ req, params, rt }) => {
  await rt.supervisor.writeStdin(params.id, (await readBody(req, StdinBodySchema)).data);
  return { ok: true };
}, { scope: "control" });
