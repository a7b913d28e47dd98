import { BudgetsUpdateSchema, BudgetsViewSchema } from "@/lib/scheduling";
import { settingRoutes } from "../../../_lib/setting-routes";

export const { GET, PUT } = settingRoutes({ view: BudgetsViewSchema, update: BudgetsUpdateSchema }, {
  get: { summary: "The daily budget, repo budgets and their usage", read: (rt) => rt.scheduler.settings.budgets() },
  put: {
    summary: "Set repo and daily budgets",
    description: "A spent repo or daily budget holds the lanes it covers (`waitingFor: budget`); 422 naming the field for a bad budget or an unknown repo.",
    write: (rt, body) => rt.scheduler.settings.setBudgets(body),
  },
});
