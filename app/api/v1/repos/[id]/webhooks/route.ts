import { WebhookCreateBodySchema, WebhookListSchema, WebhookViewSchema } from "@/lib/webhooks";
import { route } from "../../../../_lib/handler";
import { RepoParams } from "../../../../_lib/params";

export const GET = route(async ({ params, rt }) => ({ webhooks: await rt.webhooks.list(params.id) }), {
  scope: "admin",
  summary: "A repo's webhooks, each with its newest deliveries",
  description: "Admin only: a webhook's URL is a secret.",
  params: RepoParams,
  response: WebhookListSchema,
});

export const POST = route(async ({ params, body, rt }) => rt.webhooks.create(params.id, body), {
  scope: "admin",
  summary: "Add a webhook that receives the repo's lane events",
  description: "422 naming `url` (not http(s)) or `events.<i>` (unknown event type).",
  status: 201,
  params: RepoParams,
  body: WebhookCreateBodySchema,
  response: WebhookViewSchema,
});
