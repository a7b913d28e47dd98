"use client";
/**
 * Concurrency caps per pool (agent workers, check runs, background): over all repos, the default
 * for each repo, and overrides per repo (empty = no cap of its own / inherit). Shows what runs now
 * and what waits. Checked with the server's schema first; a 422 is shown on its field.
 */
import type { FormEvent } from "react";
import type { RepoView } from "@/lib/api";
import { issuesToFieldErrors } from "@/lib/packet-form";
import { CapsUpdateSchema, POOLS, type CapsUpdate, type CapsView, type Pool } from "@/lib/scheduling";
import { errorMessage } from "./api-client";
import { settingsApi, settingsKeys } from "./api-settings";
import { INPUT_CLASS } from "./form-field";
import { useSettingsForm } from "./use-settings-form";
import { SectionHeading } from "./section-heading";
import { SettingsTableHead } from "./settings-table";

type Draft = Record<string, string>;

const key = (scope: string, pool: Pool) => `${scope}.${pool}`;
const str = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));
const val = (s: string | undefined) => (s === undefined || s.trim() === "" ? null : Number(s));

function draftOf(v: CapsView): Draft {
  const d: Draft = {};
  for (const p of POOLS) {
    d[key("global", p)] = str(v.caps.global[p]);
    d[key("perRepo", p)] = str(v.caps.perRepo[p]);
    for (const [repoId, caps] of Object.entries(v.caps.repos)) d[key(`repos.${repoId}`, p)] = str(caps[p]);
  }
  return d;
}

function updateOf(d: Draft, repos: RepoView[]): CapsUpdate {
  const pools = (scope: string) => Object.fromEntries(POOLS.map((p) => [p, val(d[key(scope, p)])]));
  const global = Object.fromEntries(POOLS.map((p) => [p, val(d[key("global", p)]) ?? 0]));
  return { global, perRepo: pools("perRepo"), repos: Object.fromEntries(repos.map((r) => [r.id, pools(`repos.${r.id}`)])) } as CapsUpdate;
}

export function CapsSettings({ repos }: { repos: RepoView[] }) {
  const { query: caps, draft, setDraft, errors, setErrors, save } = useSettingsForm(settingsKeys.caps, settingsApi.caps, settingsApi.setCaps);
  if (!caps.data) return <p className="text-xs text-zinc-300">{caps.isError ? errorMessage(caps.error) : "Loading caps…"}</p>;
  const d = draft ?? draftOf(caps.data);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const update = updateOf(d, repos);
    const parsed = CapsUpdateSchema.safeParse(update);
    if (!parsed.success) return setErrors(issuesToFieldErrors(parsed.error.issues));
    save.mutate(update);
  };
  const cell = (scope: string, pool: Pool, placeholder: string) => {
    const k = key(scope, pool);
    return (
      <td className="p-1">
        <input
          aria-label={`${scope === "global" ? "Global" : scope === "perRepo" ? "Per-repo default" : repos.find((r) => `repos.${r.id}` === scope)?.name} ${pool} cap`}
          data-testid={`cap-${k}`}
          inputMode="numeric"
          value={d[k] ?? ""}
          placeholder={placeholder}
          aria-invalid={errors[k] ? true : undefined}
          onChange={(e) => setDraft({ ...d, [k]: e.target.value })}
          className={`${INPUT_CLASS} w-20`}
        />
        {errors[k] && (
          <p role="alert" data-testid={`error-${k}`} className="max-w-40 text-[11px] text-red-300">
            {errors[k]}
          </p>
        )}
      </td>
    );
  };
  const row = (scope: string, label: string, placeholder: string) => (
    <tr key={scope} className="border-t border-zinc-800">
      <th scope="row" className="p-1 text-left font-normal text-zinc-200">
        {label}
      </th>
      {POOLS.map((p) => cell(scope, p, placeholder))}
    </tr>
  );
  const other = Object.entries(errors).filter(([k]) => !/^(global|perRepo|repos\.[^.]+)\.(agent|check|background)$/.test(k));
  return (
    <section aria-labelledby="caps-title" className="flex flex-col gap-2 rounded-lg border border-zinc-800 p-3 sm:p-4">
      <SectionHeading id="caps-title">Concurrency caps</SectionHeading>
      <p className="text-xs text-zinc-300">
        How many run at once in each pool; 0 pauses a pool. Lowering a cap never stops running work. Now running: {POOLS.map((p) => `${p} ${caps.data.running.global[p]}`).join(", ")}; waiting: {POOLS.map((p) => `${p} ${caps.data.queued[p]}`).join(", ")}.
      </p>
      <form onSubmit={onSubmit} noValidate data-testid="caps-form">
        <div className="overflow-x-auto">
          <table className="text-xs">
            <SettingsTableHead columns={["Scope", ...POOLS]} />
            <tbody>
              {row("global", "All repos", "0")}
              {row("perRepo", "Each repo (default)", "no cap")}
              {repos.map((r) => row(`repos.${r.id}`, r.name, "default"))}
            </tbody>
          </table>
        </div>
        {other.length > 0 && (
          <p role="alert" className="text-xs text-red-300">
            {other.map(([k, m]) => `${k}: ${m}`).join("; ")}
          </p>
        )}
        <div className="mt-2 flex items-center gap-3">
          <button type="submit" data-testid="caps-save" disabled={save.isPending || !draft} className="h-8 rounded-md bg-sky-600 px-3 text-xs font-medium text-white hover:bg-sky-500 disabled:opacity-50">
            {save.isPending ? "Saving…" : "Save caps"}
          </button>
          {save.isSuccess && !draft && <span role="status" data-testid="caps-saved" className="text-xs text-emerald-300">Saved.</span>}
        </div>
      </form>
    </section>
  );
}
