import { PromptBodySchema, PromptResponseSchema } from "@/lib/worker-api";
import { readBody, route } from "../../../../../_lib/handler";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/lanes/:id/worker/prompt { text } → PromptResponse: `delivered` to a live worker in
 * ready_for_prompt, or a `follow_up` run of an ended claude/codex lane. 409 not_ready / conflict,
 * 422 not_supported (see lib/worker-api.ts).
 */
export const POST = route<{ id: string }>(async ({ req, params, rt }) => {
  const { text } = await readBody(req, PromptBodySchema);
  return PromptResponseSchema.parse(await rt.workers.prompt(params.id, text));
}, { scope: "control", idempotent: true });
