"use client";
/**
 * Settings a person can change from the browser: concurrency caps per pool (global, the default
 * per repo, and per-repo overrides), budgets (daily over all repos, per repo total and daily), and
 * per repo its policy (edited as text, the server's errors shown by line) and its webhooks.
 */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "./api-client";
import { AppHeader } from "./app-header";
import { BudgetSettings } from "./budget-settings";
import { CapsSettings } from "./caps-settings";
import { PolicyEditor } from "./policy-editor";
import { laneKeys } from "./query-keys";
import { RepoOptions } from "./repo-options";
import { WebhookSettings } from "./webhook-settings";
import { SectionHeading } from "./section-heading";

export function SettingsPage() {
  const board = useQuery({ queryKey: laneKeys.board, queryFn: () => api.board() });
  const repos = board.data?.repos ?? [];
  const [repoId, setRepoId] = useState("");
  const repo = repos.find((r) => r.id === repoId) ?? repos[0];
  return (
    <>
      <AppHeader />
      <main className="mx-auto flex max-w-5xl flex-col gap-6 px-3 py-4 sm:px-4">
        <h1 className="text-base font-semibold text-zinc-100">Settings</h1>
        <CapsSettings repos={repos} />
        <BudgetSettings repos={repos} />
        <section aria-labelledby="repo-settings" className="flex flex-col gap-4 rounded-lg border border-zinc-800 p-3 sm:p-4">
          <div className="flex flex-wrap items-center gap-3">
            <SectionHeading id="repo-settings">Repository</SectionHeading>
            <select aria-label="Repository" data-testid="settings-repo" value={repo?.id ?? ""} onChange={(e) => setRepoId(e.target.value)} className="h-8 min-w-0 max-w-full rounded-md border border-zinc-700 bg-zinc-900 px-2 text-xs text-zinc-100">
              <RepoOptions repos={repos} />
            </select>
          </div>
          {repo ? (
            <>
              <PolicyEditor key={`p-${repo.id}`} repoId={repo.id} />
              <WebhookSettings key={`w-${repo.id}`} repoId={repo.id} />
            </>
          ) : (
            <p className="text-xs text-zinc-300">Register a repository on the board first.</p>
          )}
        </section>
      </main>
    </>
  );
}
