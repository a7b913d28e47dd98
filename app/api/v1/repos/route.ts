import { RegisterRepoBodySchema, RepoListQuerySchema, RepoPageSchema } from "@/lib/api";
import { readBody, readQuery, route } from "../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/repos[?limit=&cursor=] → { items: RepoView[], next }: repos in registration order, one page (lib/paging.ts) */
export const GET = route(async ({ req, rt }) => RepoPageSchema.parse(await rt.repos.page(readQuery(req, RepoListQuerySchema))), { scope: "read" });

/** POST /api/v1/repos { path, mainBranch? } → 201 RepoView */
export const POST = route(async ({ req, rt }) => rt.repos.register(await readBody(req, RegisterRepoBodySchema)), { scope: "admin", status: 201, idempotent: true });
