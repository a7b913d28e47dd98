"use client";
/**
 * Token and cost budgets: per UTC day over all repos, and per repo (over its lifetime and per
 * day), with what has been used. Empty means unlimited. A spent budget holds the lanes it covers
 * (they wait with "over budget"); raising it releases them. A 422 is shown on its field.
 */
import type { FormEvent } from "react";
import type { RepoView } from "@/lib/api";
import { formatUsd } from "@/lib/event-sentence";
import type { Budget, BudgetsView } from "@/lib/scheduling";
import { errorMessage } from "./api-client";
import { settingsApi, settingsKeys } from "./api-settings";
import { INPUT_CLASS } from "./form-field";
import { useSettingsForm } from "./use-settings-form";
import { SectionHeading } from "./section-heading";
import { SettingsTableHead } from "./settings-table";

type Draft = Record<string, string>;
const FIELDS = ["maxTokens", "maxCostUsd"] as const;
const str = (n: number | undefined) => (n === undefined ? "" : String(n));

function draftOf(v: BudgetsView): Draft {
  const d: Draft = {};
  for (const f of FIELDS) d[`daily.${f}`] = str(v.daily?.[f]);
  for (const [id, r] of Object.entries(v.repos)) for (const f of FIELDS) {
    d[`repos.${id}.total.${f}`] = str(r.budget.total?.[f]);
    d[`repos.${id}.daily.${f}`] = str(r.budget.daily?.[f]);
  }
  return d;
}

/** A budget from two fields, or undefined when both are empty. Non-numbers stay as NaN for the server to name. */
function budgetOf(d: Draft, prefix: string): Budget | undefined {
  const b: Record<string, number> = {};
  for (const f of FIELDS) if ((d[`${prefix}.${f}`] ?? "").trim() !== "") b[f] = Number(d[`${prefix}.${f}`]);
  return Object.keys(b).length ? (b as Budget) : undefined;
}

export function BudgetSettings({ repos }: { repos: RepoView[] }) {
  const { query: budgets, draft, setDraft, errors, save } = useSettingsForm(settingsKeys.budgets, settingsApi.budgets, settingsApi.setBudgets);
  if (!budgets.data) return <p className="text-xs text-zinc-300">{budgets.isError ? errorMessage(budgets.error) : "Loading budgets…"}</p>;
  const v = budgets.data;
  const d = draft ?? draftOf(v);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const update = {
      daily: budgetOf(d, "daily") ?? null,
      repos: Object.fromEntries(repos.map((r) => [r.id, { total: budgetOf(d, `repos.${r.id}.total`), daily: budgetOf(d, `repos.${r.id}.daily`) }])),
    };
    save.mutate(update);
  };
  const input = (k: string, label: string) => {
    const err = errors[k] ?? errors[k.replace(/\.[^.]+$/, "")];
    return (
      <td className="p-1">
        <input aria-label={label} data-testid={`budget-${k}`} inputMode="decimal" placeholder="unlimited" value={d[k] ?? ""} aria-invalid={err ? true : undefined} onChange={(e) => setDraft({ ...d, [k]: e.target.value })} className={`${INPUT_CLASS} w-28`} />
        {err && <p role="alert" className="max-w-40 text-[11px] text-red-300">{err}</p>}
      </td>
    );
  };
  const used = (t: { tokens: number; costUsd: number } | undefined) => (t ? `${t.tokens.toLocaleString("en")} tokens, ${formatUsd(t.costUsd)}` : "—");
  return (
    <section aria-labelledby="budgets-title" className="flex flex-col gap-2 rounded-lg border border-zinc-800 p-3 sm:p-4">
      <SectionHeading id="budgets-title">Budgets</SectionHeading>
      <p className="text-xs text-zinc-300">Tokens (input + output) and US dollars. Empty is unlimited. Lanes covered by a spent budget wait until it is raised.</p>
      <form onSubmit={onSubmit} noValidate data-testid="budgets-form">
        <div className="overflow-x-auto">
          <table className="text-xs">
            <SettingsTableHead columns={["Scope", "Max tokens", "Max USD", "Used"]} />
            <tbody>
              <tr className="border-t border-zinc-800">
                <th scope="row" className="p-1 text-left font-normal text-zinc-200">All repos, per day</th>
                {input("daily.maxTokens", "Daily max tokens")}
                {input("daily.maxCostUsd", "Daily max USD")}
                <td className="p-1 text-zinc-300">{used(v.today.used)} today</td>
              </tr>
              {repos.flatMap((r) =>
                (["total", "daily"] as const).map((scope) => (
                  <tr key={`${r.id}-${scope}`} className="border-t border-zinc-800">
                    <th scope="row" className="p-1 text-left font-normal text-zinc-200">{r.name}, {scope === "total" ? "in all" : "per day"}</th>
                    {input(`repos.${r.id}.${scope}.maxTokens`, `${r.name} ${scope} max tokens`)}
                    {input(`repos.${r.id}.${scope}.maxCostUsd`, `${r.name} ${scope} max USD`)}
                    <td className="p-1 text-zinc-300">{used(scope === "total" ? v.repos[r.id]?.used : v.repos[r.id]?.usedToday)}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
        {errors["(form)"] && <p role="alert" className="text-xs text-red-300">{errors["(form)"]}</p>}
        <button type="submit" data-testid="budgets-save" disabled={save.isPending || !draft} className="mt-2 h-8 rounded-md bg-sky-600 px-3 text-xs font-medium text-white hover:bg-sky-500 disabled:opacity-50">
          {save.isPending ? "Saving…" : "Save budgets"}
        </button>
      </form>
    </section>
  );
}
