import { PromptBodySchema, PromptResponseSchema } from "@/lib/worker-api";
import { route } from "../../../../../_lib/handler";
import { LaneParams } from "../../../../../_lib/params";

export const POST = route(async ({ params, body, rt }) => PromptResponseSchema.parse(await rt.workers.prompt(params.id, body.text)), {
  scope: "control",
  summary: "Send a prompt to a ready worker, or a follow-up to an ended claude/codex lane",
  description:
    "`mode: delivered`: typed into a live worker in `ready_for_prompt`; `mode: follow_up`: a new run resuming the agent's session. " +
    "409 `not_ready` / `conflict`; 422 `not_supported` for an engine without sessions.",
  idempotent: true,
  params: LaneParams,
  body: PromptBodySchema,
  response: PromptResponseSchema,
  errors: ["not_ready", "conflict", "not_supported"],
});
