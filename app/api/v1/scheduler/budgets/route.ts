import { BudgetsUpdateSchema, BudgetsViewSchema } from "@/lib/scheduling";
import { route } from "../../../_lib/handler";

export const GET = route(async ({ rt }) => rt.scheduler.settings.budgets(), {
  scope: "read",
  summary: "The daily budget, repo budgets and their usage",
  response: BudgetsViewSchema,
});

export const PUT = route(async ({ body, rt }) => rt.scheduler.settings.setBudgets(body), {
  scope: "admin",
  summary: "Set repo and daily budgets",
  description: "A spent repo or daily budget holds the lanes it covers (`waitingFor: budget`); 422 naming the field for a bad budget or an unknown repo.",
  body: BudgetsUpdateSchema,
  response: BudgetsViewSchema,
});
