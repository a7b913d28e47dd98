import { PolicyPutBodySchema } from "@/lib/api";
import { AppError } from "@/lib/errors";
import { parseOrThrow } from "@/lib/validate";
import { route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/repos/:id/policy → PolicyView: the rules in force, where they come from, the accepted text. */
export const GET = route<{ id: string }>(async ({ params, rt }) => rt.policy.get(params.id), { scope: "read" });

/**
 * PUT /api/v1/repos/:id/policy → PolicyView. Body: the policy text (YAML or JSON, any non-JSON
 * content type), or JSON `{ text }` or `{ rules, includeDefaults? }`. Invalid rules → 422
 * `{ error: { code: "invalid_input", message, details: { errors: [{ line, column, message, path }] } } }`;
 * the previous rules stay in force.
 */
export const PUT = route<{ id: string }>(async ({ req, params, rt }) => {
  const text = await req.text();
  if (!(req.headers.get("content-type") ?? "").includes("json")) return rt.policy.put(params.id, text);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new AppError("bad_request", "request body is not valid JSON (send YAML with content-type text/yaml)");
  }
  return rt.policy.put(params.id, parseOrThrow(PolicyPutBodySchema, data));
}, { scope: "admin" });

/** DELETE /api/v1/repos/:id/policy → PolicyView: drop the rules set through the API (back to the repo's file or the defaults). */
export const DELETE = route<{ id: string }>(async ({ params, rt }) => rt.policy.reset(params.id), { scope: "admin" });
