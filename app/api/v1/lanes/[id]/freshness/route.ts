import { LaneFreshnessSchema } from "@/lib/api";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const GET = route(async ({ params, rt }) => rt.freshness.assess(params.id, "api"), {
  scope: "read",
  summary: "A lane's branch against its base, computed now: ahead/behind, base moved, missing commits, worktree and problems",
  params: LaneParams,
  response: LaneFreshnessSchema,
});
