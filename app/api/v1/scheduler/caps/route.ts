import { CapsUpdateSchema, CapsViewSchema } from "@/lib/scheduling";
import { settingRoutes } from "../../../_lib/setting-routes";

export const { GET, PUT } = settingRoutes({ view: CapsViewSchema, update: CapsUpdateSchema }, {
  get: { summary: "Concurrency caps in force, with running and queued counts per pool", read: (rt) => rt.scheduler.settings.caps() },
  put: {
    summary: "Change concurrency caps",
    description:
      "Merges: absent parts are unchanged, `repos[id] = null` drops a repo's overrides. Lowering a cap never stops running work. 422 naming the field (e.g. `global.agent`); nothing changes then.",
    write: (rt, body) => rt.scheduler.settings.setCaps(body),
  },
});
