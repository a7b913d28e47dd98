import { BudgetsUpdateSchema } from "@/lib/scheduling";
import { readBody, route } from "../../../_lib/handler";

export const dynamic = "force-dynamic";

/** GET /api/v1/scheduler/budgets → BudgetsView (daily budget, repo budgets, usage) */
export const GET = route(async ({ rt }) => rt.scheduler.settings.budgets(), { scope: "read" });

/**
 * PUT /api/v1/scheduler/budgets { repos?: { [repoId]: { total?, daily? } | null }, daily?: Budget | null } → BudgetsView.
 * A spent repo or daily budget holds the lanes it covers (`waitingFor: budget`); 422 naming the field for a bad budget or unknown repo.
 */
export const PUT = route(async ({ req, rt }) => rt.scheduler.settings.setBudgets(await readBody(req, BudgetsUpdateSchema)), { scope: "admin" });
