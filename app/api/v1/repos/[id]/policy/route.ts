import { PolicyPutRequestSchema, PolicyViewSchema } from "@/lib/api";
import { route } from "../../../../_lib/handler";
import { RepoParams } from "../../../../_lib/params";

export const GET = route(async ({ params, rt }) => rt.policy.get(params.id), {
  scope: "read",
  summary: "A repo's policy: the rules in force, where they come from, the accepted text",
  params: RepoParams,
  response: PolicyViewSchema,
});

export const PUT = route(async ({ params, body, rt }) => rt.policy.put(params.id, body), {
  scope: "admin",
  summary: "Replace a repo's policy",
  description:
    "The policy text (YAML or JSON) with any non-JSON content type, or JSON `{ text }` or `{ rules, includeDefaults? }`. " +
    "Invalid rules: 422 `invalid_input` with `details.errors: [{ line, column, message, path }]`; the previous rules stay in force.",
  params: RepoParams,
  body: PolicyPutRequestSchema,
  textBody: "text/yaml",
  response: PolicyViewSchema,
});

export const DELETE = route(async ({ params, rt }) => rt.policy.reset(params.id), {
  scope: "admin",
  summary: "Drop the rules set through the API (back to the repo's file or the defaults)",
  params: RepoParams,
  response: PolicyViewSchema,
});
