import { OkResponseSchema, StdinBodySchema } from "@/lib/api";
import { route } from "../../../../_lib/handler";
import { ProcessParams } from "../../../../_lib/params";

export const POST = route(
  async ({ params, body, rt }) => {
    await rt.processes.writeStdin(params.id, body.data);
    return { ok: true };
  },
  {
    scope: "control",
    summary: "Write to a running process's stdin",
    description: "409 `not_running` for a finished process.",
    params: ProcessParams,
    body: StdinBodySchema,
    response: OkResponseSchema,
    errors: ["not_running"],
  },
);
