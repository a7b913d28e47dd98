import { route } from "../../../_lib/handler";

export const dynamic = "force-dynamic";

/** DELETE /api/v1/tokens/:id → the revoked TokenView: refused from now on, its open sockets closed. 404 when unknown. */
export const DELETE = route<{ id: string }>(async ({ params, rt, caller }) => rt.tokens.revoke(params.id, caller), { scope: "admin" });
