import { RegisterRepoBodySchema } from "@/lib/api";
import { readBody, route } from "../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/repos → RepoView[] */
export const GET = route(async ({ rt }) => rt.repos.list(), { scope: "read" });

/** POST /api/v1/repos { path, mainBranch? } → 201 RepoView */
export const POST = route(async ({ req, rt }) => rt.repos.register(await readBody(req, RegisterRepoBodySchema)), { scope: "admin", status: 201, idempotent: true });
