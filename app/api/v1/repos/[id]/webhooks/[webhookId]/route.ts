import { route } from "../../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** DELETE /api/v1/repos/:id/webhooks/:webhookId → { deleted: true }; its deliveries go with it. 404 when unknown. */
export const DELETE = route<{ id: string; webhookId: string }>(async ({ params, rt }) => {
  await rt.webhooks.remove(params.id, params.webhookId);
  return { deleted: true };
}, { scope: "admin" });
