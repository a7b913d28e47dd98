import { CreateTokenBodySchema, CreatedTokenSchema, TokenListSchema } from "@/lib/auth";
import { route } from "../../_lib/handler";

export const POST = route(async ({ body, rt, caller }) => rt.tokens.create(body, caller), {
  scope: "admin",
  summary: "Create a token with scopes, optional repos and expiry",
  description: "The secret is in this answer only (stored hashed). Needs an admin token not limited to repos; 409 `already_exists` when the name is in use.",
  status: 201,
  body: CreateTokenBodySchema,
  response: CreatedTokenSchema,
  errors: ["already_exists", "not_found"],
});

export const GET = route(async ({ rt }) => ({ tokens: await rt.tokens.list() }), {
  scope: "admin",
  summary: "Every token, newest first, without secrets",
  response: TokenListSchema,
});
