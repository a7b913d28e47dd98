import { RegisterRepoBodySchema, RepoListQuerySchema, RepoPageSchema, RepoViewSchema } from "@/lib/api";
import { route } from "../../_lib/handler";

export const GET = route(async ({ query, rt }) => RepoPageSchema.parse(await rt.repos.page(query)), {
  scope: "read",
  summary: "Registered repos in registration order, one page (pass `next` as `cursor`)",
  query: RepoListQuerySchema,
  response: RepoPageSchema,
});

export const POST = route(async ({ body, rt }) => rt.repos.register(body), {
  scope: "admin",
  summary: "Register a local git repository",
  description: "404 for a path that does not exist; 422 `not_a_git_repo`, `no_main_branch`; 409 `already_exists`.",
  status: 201,
  idempotent: true,
  body: RegisterRepoBodySchema,
  response: RepoViewSchema,
  errors: ["not_found", "not_a_git_repo", "no_main_branch", "already_exists"],
});
