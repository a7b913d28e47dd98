import { MergeBodySchema, MergeReadinessSchema, MergeResultSchema } from "@/lib/api";
import { route } from "../../../../_lib/handler";
import { LaneParams } from "../../../../_lib/params";

export const GET = route(async ({ params, rt }) => rt.merge.readiness(params.id), {
  scope: "read",
  summary: "Merge readiness, computed now: green at the required level, not stale, no conflict",
  params: LaneParams,
  response: MergeReadinessSchema,
});

export const POST = route(async ({ params, body, rt, caller }) => rt.merge.merge(params.id, body, caller.by), {
  scope: "control",
  summary: "Merge a lane's branch into its base",
  description:
    "409 `conflict` (running, already merged, a conflict, base moved, local edits in a checked-out base, a git lock; `details.kind`); " +
    "409 `not_ready` (not green or stale, without `force`).",
  idempotent: true,
  params: LaneParams,
  body: MergeBodySchema,
  response: MergeResultSchema,
  errors: ["conflict", "not_ready"],
});
