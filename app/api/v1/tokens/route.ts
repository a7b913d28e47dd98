import { CreateTokenBodySchema } from "@/lib/auth";
import { readBody, route } from "../../_lib/handler";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/tokens { name, scopes, repos?, expiresAt? } → 201 CreatedToken: the secret is in
 * this answer only (stored hashed). Needs an admin token not limited to repos; 409 when the name is in use.
 */
export const POST = route(async ({ req, rt, caller }) => rt.tokens.create(await readBody(req, CreateTokenBodySchema), caller), { scope: "admin", status: 201 });

/** GET /api/v1/tokens → { tokens: TokenView[] }, newest first, without secrets. */
export const GET = route(async ({ rt }) => ({ tokens: await rt.tokens.list() }), { scope: "admin" });
