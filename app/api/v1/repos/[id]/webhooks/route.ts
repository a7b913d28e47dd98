import { route } from "../../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/repos/:id/webhooks → { webhooks: WebhookView[] } with each webhook's newest deliveries (lib/webhooks.ts). */
export const GET = route<{ id: string }>(async ({ params, rt }) => ({ webhooks: await rt.webhooks.list(params.id) }), { scope: "admin" });

/**
 * POST /api/v1/repos/:id/webhooks { url, events? } → 201 WebhookView. 422 naming `url` (not http(s))
 * or `events.<i>` (unknown event type); 404 for an unknown repo.
 */
export const POST = route<{ id: string }>(async ({ req, params, rt }) => rt.webhooks.create(params.id, await req.json().catch(() => null)), { scope: "admin", status: 201 });
