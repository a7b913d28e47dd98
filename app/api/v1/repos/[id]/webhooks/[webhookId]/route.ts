import { WebhookDeletedSchema } from "@/lib/webhooks";
import { route } from "../../../../../_lib/handler";
import { WebhookParams } from "../../../../../_lib/params";

export const DELETE = route(
  async ({ params, rt }) => {
    await rt.webhooks.remove(params.id, params.webhookId);
    return { deleted: true };
  },
  {
    scope: "admin",
    summary: "Delete a webhook and its deliveries",
    params: WebhookParams,
    response: WebhookDeletedSchema,
  },
);
