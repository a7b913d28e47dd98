import { TokenViewSchema } from "@/lib/auth";
import { route } from "../../../_lib/handler";
import { TokenParams } from "../../../_lib/params";

export const DELETE = route(async ({ params, rt, caller }) => rt.tokens.revoke(params.id, caller), {
  scope: "admin",
  summary: "Revoke a token: refused from now on, its open sockets closed",
  params: TokenParams,
  response: TokenViewSchema,
});
