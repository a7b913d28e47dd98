import { LaneListQuerySchema, LanePageSchema, LaneViewSchema } from "@/lib/api";
import { TaskPacketSchema } from "@/lib/task-packet";
import { route } from "../../_lib/handler";
import { assertMayUseRepo, repoFilterFor } from "../../_lib/repo-reach";

export const GET = route(async ({ query, rt, caller }) => LanePageSchema.parse(await rt.lanes.page({ ...query, repoId: repoFilterFor(caller, query.repoId) })), {
  scope: "read",
  summary: "Lanes in creation order, one page (pass `next` as `cursor`); a repo-limited token sees its repos' lanes",
  query: LaneListQuerySchema,
  response: LanePageSchema,
});

export const POST = route(async ({ body, rt, caller }) => {
  await assertMayUseRepo(rt, caller, body.repo);
  return rt.lanes.create(body);
}, {
  scope: "control",
  summary: "Create a lane from a task packet (queued, or already starting)",
  description: "409 `branch_exists` for a branch that exists; 404 for an unknown repo.",
  status: 201,
  idempotent: true,
  body: TaskPacketSchema,
  response: LaneViewSchema,
  errors: ["not_found", "branch_exists", "conflict", "forbidden"],
});
