"use client";
/**
 * "New lane": the task packet as a form (lib/packet-form.ts) — repo, objective, a branch name
 * suggested from the objective, engine with its prompt, command or script, acceptance checks per
 * level, priority, deadline, dependencies, budget. Checked in the browser with the server's zod
 * schema; the server's own refusals (unknown dependency, branch exists, …) are shown on their
 * fields. Nothing is created unless the server accepts; then the lane's page opens.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { EMPTY_PACKET_FORM, serverErrorToFieldErrors, suggestBranch, validatePacketForm, type FieldErrors, type PacketForm } from "@/lib/packet-form";
import { ENGINES, GREEN_LEVELS, isAgentEngine } from "@/lib/task-packet";
import { api, ApiError } from "./api-client";
import { boardApi } from "./api-board";
import { AppHeader } from "./app-header";
import { controlProps, Field, INPUT_CLASS, TEXTAREA_CLASS } from "./form-field";
import { laneKeys } from "./query-keys";
import { RepoOptions } from "./repo-options";
import { useServerReachable } from "./realtime-context";

export function NewLaneForm() {
  const router = useRouter();
  const qc = useQueryClient();
  const reachable = useServerReachable();
  const board = useQuery({ queryKey: laneKeys.board, queryFn: () => api.board() });
  const repos = board.data?.repos ?? [];
  const [form, setForm] = useState<PacketForm>(EMPTY_PACKET_FORM);
  const [branchEdited, setBranchEdited] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const repo = form.repo || repos[0]?.id || "";
  const set = (patch: Partial<PacketForm>) => setForm((f) => ({ ...f, ...patch }));
  const create = useMutation({
    mutationFn: boardApi.createLane,
    onSuccess: (lane) => {
      void qc.invalidateQueries({ queryKey: laneKeys.board });
      router.push(`/lanes/${encodeURIComponent(lane.id)}`);
    },
    onError: (err) => setErrors(err instanceof ApiError ? serverErrorToFieldErrors(err) : { "(form)": String(err) }),
  });

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const { packet, errors: found } = validatePacketForm({ ...form, repo });
    setErrors(found);
    if (Object.keys(found).length === 0) create.mutate(packet);
  };
  const err = (name: string) => errors[name];
  const formErrors = Object.entries(errors).filter(([k]) => !FIELD_KEYS.some((f) => k === f || k.startsWith(`${f}.`)));

  return (
    <>
      <AppHeader />
      <main className="mx-auto flex max-w-3xl flex-col gap-4 px-3 py-4 sm:px-4">
        <h1 className="text-base font-semibold text-zinc-100">New lane</h1>
        <form data-testid="new-lane-form" noValidate onSubmit={onSubmit} className="flex flex-col gap-4">
          <div className="grid gap-3 sm:grid-cols-2">
            <Field name="repo" label="Repository" error={err("repo")}>
              <select {...controlProps("repo", err("repo"))} value={repo} onChange={(e) => set({ repo: e.target.value })} className={INPUT_CLASS}>
                {repos.length === 0 && <option value="">no repository registered</option>}
                <RepoOptions repos={repos} />
              </select>
            </Field>
            <Field name="baseBranch" label="Base branch" hint="Empty: the repository's main branch" error={err("baseBranch")}>
              <input {...controlProps("baseBranch", err("baseBranch"))} value={form.baseBranch} onChange={(e) => set({ baseBranch: e.target.value })} className={`${INPUT_CLASS} font-mono`} />
            </Field>
          </div>
          <Field name="objective" label="Objective" hint="What the lane must achieve" error={err("objective")}>
            <textarea
              {...controlProps("objective", err("objective"))}
              rows={3}
              value={form.objective}
              onChange={(e) => set({ objective: e.target.value, ...(branchEdited ? {} : { branch: suggestBranch(e.target.value) }) })}
              className={TEXTAREA_CLASS}
            />
          </Field>
          <Field name="branch" label="Branch" hint="Suggested from the objective; a new branch created for the lane" error={err("branch")}>
            <input
              {...controlProps("branch", err("branch"))}
              value={form.branch}
              onChange={(e) => {
                setBranchEdited(true);
                set({ branch: e.target.value });
              }}
              className={`${INPUT_CLASS} font-mono`}
            />
          </Field>
          <div className="grid gap-3 sm:grid-cols-2">
            <Field name="worker.engine" label="Engine" error={err("worker.engine")}>
              <select {...controlProps("worker.engine", err("worker.engine"))} value={form.engine} onChange={(e) => set({ engine: e.target.value })} className={INPUT_CLASS}>
                {ENGINES.map((en) => (
                  <option key={en} value={en}>
                    {en}
                  </option>
                ))}
              </select>
            </Field>
            {form.engine === "claude" && (
              <label className="flex items-center gap-2 self-end pb-2 text-xs text-zinc-200">
                <input type="checkbox" checked={form.interactive} onChange={(e) => set({ interactive: e.target.checked })} className="accent-sky-500" />
                Interactive (Claude Code&apos;s terminal UI, behind the trust prompt)
              </label>
            )}
          </div>
          {isAgentEngine(form.engine) && (
            <Field name="worker.prompt" label="Prompt" error={err("worker.prompt") ?? err("worker.mode")}>
              <textarea {...controlProps("worker.prompt", err("worker.prompt"))} rows={5} value={form.prompt} onChange={(e) => set({ prompt: e.target.value })} className={TEXTAREA_CLASS} />
            </Field>
          )}
          {form.engine === "shell" && (
            <Field name="worker.command" label="Command" hint='Split into arguments like a shell would ("quotes" group), but never run by one' error={err("worker.command")}>
              <input {...controlProps("worker.command", err("worker.command"))} value={form.command} onChange={(e) => set({ command: e.target.value })} placeholder="npm test" className={`${INPUT_CLASS} font-mono`} />
            </Field>
          )}
          {form.engine === "script" && (
            <Field name="worker.script" label="Script steps (JSON)" hint='e.g. [{"op":"say","text":"hi"},{"op":"exit","code":0}]' error={err("worker.script")}>
              <textarea {...controlProps("worker.script", err("worker.script"))} rows={5} value={form.script} onChange={(e) => set({ script: e.target.value })} className={TEXTAREA_CLASS} />
            </Field>
          )}
          <AcceptanceChecks form={form} set={set} errors={errors} />
          <fieldset className="grid gap-3 rounded-lg border border-zinc-800 p-3 sm:grid-cols-3">
            <legend className="px-1 text-xs font-medium text-zinc-200">Scheduling and budget (optional)</legend>
            <Field name="priority" label="Priority" hint="-1000..1000; higher starts first" error={err("priority")}>
              <input {...controlProps("priority", err("priority"))} inputMode="numeric" value={form.priority} onChange={(e) => set({ priority: e.target.value })} className={INPUT_CLASS} />
            </Field>
            <Field name="deadline" label="Start by" error={err("deadline")}>
              <input {...controlProps("deadline", err("deadline"))} type="datetime-local" value={form.deadline} onChange={(e) => set({ deadline: e.target.value })} className={INPUT_CLASS} />
            </Field>
            <Field name="dependsOn" label="Depends on (lane ids)" error={err("dependsOn") ?? Object.entries(errors).find(([k]) => k.startsWith("dependsOn."))?.[1]}>
              <input {...controlProps("dependsOn", err("dependsOn"))} value={form.dependsOn} onChange={(e) => set({ dependsOn: e.target.value })} className={`${INPUT_CLASS} font-mono`} />
            </Field>
            <Field name="budget.maxTokens" label="Max tokens" error={err("budget.maxTokens") ?? err("budget")}>
              <input {...controlProps("budget.maxTokens", err("budget.maxTokens"))} inputMode="numeric" value={form.maxTokens} onChange={(e) => set({ maxTokens: e.target.value })} className={INPUT_CLASS} />
            </Field>
            <Field name="budget.maxCostUsd" label="Max cost (USD)" error={err("budget.maxCostUsd")}>
              <input {...controlProps("budget.maxCostUsd", err("budget.maxCostUsd"))} inputMode="decimal" value={form.maxCostUsd} onChange={(e) => set({ maxCostUsd: e.target.value })} className={INPUT_CLASS} />
            </Field>
            <Field name="mode" label="Dependencies" error={err("mode")}>
              <select {...controlProps("mode", err("mode"))} value={form.dependsMode} onChange={(e) => set({ dependsMode: e.target.value as PacketForm["dependsMode"] })} className={INPUT_CLASS}>
                <option value="wait_all">wait for all</option>
                <option value="wait_any">wait for any</option>
              </select>
            </Field>
          </fieldset>
          {formErrors.length > 0 && (
            <ul role="alert" data-testid="form-errors" className="rounded-md border border-red-500/40 bg-red-500/10 px-3 py-2 text-xs text-red-200">
              {formErrors.map(([k, m]) => (
                <li key={k}>{k === "(form)" ? m : `${k}: ${m}`}</li>
              ))}
            </ul>
          )}
          <div className="flex items-center gap-3">
            <button type="submit" data-testid="create-lane" disabled={create.isPending || !reachable} className="h-9 rounded-md bg-sky-600 px-4 text-sm font-medium text-white hover:bg-sky-500 disabled:opacity-50">
              {create.isPending ? "Creating…" : "Create lane"}
            </button>
            {!reachable && <span className="text-xs text-red-300">The server cannot be reached.</span>}
          </div>
        </form>
      </main>
    </>
  );
}

/** Field keys shown next to a control; other errors are listed above the submit button. */
const FIELD_KEYS = ["repo", "baseBranch", "objective", "branch", "worker.engine", "worker.prompt", "worker.mode", "worker.command", "worker.script", "acceptance", "priority", "deadline", "dependsOn", "budget", "mode"];

function AcceptanceChecks({ form, set, errors }: { form: PacketForm; set: (p: Partial<PacketForm>) => void; errors: FieldErrors }) {
  const update = (i: number, patch: Partial<PacketForm["checks"][number]>) => set({ checks: form.checks.map((c, j) => (j === i ? { ...c, ...patch } : c)) });
  return (
    <fieldset className="flex flex-col gap-2 rounded-lg border border-zinc-800 p-3">
      <legend className="px-1 text-xs font-medium text-zinc-200">Acceptance checks (run in the worktree after the worker, per green level)</legend>
      {form.checks.map((c, i) => {
        const e = errors[`acceptance.${i}.argv`] ?? errors[`acceptance.${i}.level`] ?? errors[`acceptance.${i}`];
        return (
          <div key={i} className="flex min-w-0 flex-wrap items-start gap-2">
            <select aria-label={`Check ${i + 1} level`} value={c.level} onChange={(ev) => update(i, { level: ev.target.value })} className={`${INPUT_CLASS} w-32`}>
              {GREEN_LEVELS.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
            <div className="min-w-0 flex-1 basis-48">
              <input
                {...controlProps(`acceptance.${i}.argv`, e)}
                aria-label={`Check ${i + 1} command`}
                value={c.command}
                onChange={(ev) => update(i, { command: ev.target.value })}
                placeholder="node --test"
                className={`${INPUT_CLASS} font-mono`}
              />
              {e && (
                <p role="alert" data-testid={`error-acceptance.${i}`} className="text-[11px] text-red-300">
                  {e}
                </p>
              )}
            </div>
            <button type="button" onClick={() => set({ checks: form.checks.filter((_, j) => j !== i) })} className="h-8 rounded-md px-2 text-xs text-zinc-300 ring-1 ring-inset ring-zinc-700 hover:bg-zinc-800">
              Remove
            </button>
          </div>
        );
      })}
      <button type="button" data-testid="add-check" onClick={() => set({ checks: [...form.checks, { level: "targeted", command: "" }] })} className="self-start text-xs text-sky-300 underline hover:no-underline">
        Add a check
      </button>
    </fieldset>
  );
}
