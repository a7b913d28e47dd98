import { CapsUpdateSchema, CapsViewSchema } from "@/lib/scheduling";
import { route } from "../../../_lib/handler";

export const GET = route(async ({ rt }) => rt.scheduler.settings.caps(), {
  scope: "read",
  summary: "Concurrency caps in force, with running and queued counts per pool",
  response: CapsViewSchema,
});

export const PUT = route(async ({ body, rt }) => rt.scheduler.settings.setCaps(body), {
  scope: "admin",
  summary: "Change concurrency caps",
  description:
    "Merges: absent parts are unchanged, `repos[id] = null` drops a repo's overrides. Lowering a cap never stops running work. 422 naming the field (e.g. `global.agent`); nothing changes then.",
  body: CapsUpdateSchema,
  response: CapsViewSchema,
});
