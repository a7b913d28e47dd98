"use client";
/**
 * A repo's policy as text (YAML or JSON, server/policy), edited in the browser. Saving sends the
 * text; a policy the server rejects keeps the old one in force, and each error is listed with its
 * line and column and the text of that line — clicking it puts the cursor there.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { stringify } from "yaml";
import type { PolicyView } from "@/lib/api";
import { ApiError, errorMessage } from "./api-client";
import { settingsApi, settingsKeys } from "./api-settings";
import { TEXTAREA_CLASS } from "./form-field";

interface LineError {
  line: number;
  column: number;
  message: string;
}

function lineErrorsOf(err: unknown): LineError[] {
  const list = err instanceof ApiError ? err.details?.errors : null;
  if (Array.isArray(list)) return list.filter((e): e is LineError => typeof e?.line === "number" && typeof e?.message === "string");
  return [{ line: 0, column: 0, message: errorMessage(err) }];
}

/** The policy's text: the accepted text in force, or the rules in force written out as YAML. */
const textOf = (p: PolicyView) => p.text ?? stringify({ rules: p.rules });

export function PolicyEditor({ repoId }: { repoId: string }) {
  const qc = useQueryClient();
  const policy = useQuery({ queryKey: settingsKeys.policy(repoId), queryFn: () => settingsApi.policy(repoId) });
  const [text, setText] = useState<string | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const save = useMutation({
    mutationFn: (t: string) => settingsApi.setPolicy(repoId, t),
    onSuccess: (v) => {
      qc.setQueryData(settingsKeys.policy(repoId), v);
      setText(null);
    },
  });
  if (!policy.data) return <p className="text-xs text-zinc-300">{policy.isError ? errorMessage(policy.error) : "Loading policy…"}</p>;
  const shown = text ?? textOf(policy.data);
  const lines = shown.split("\n");
  const errors = save.isError ? lineErrorsOf(save.error) : [];
  const goTo = (line: number, column: number) => {
    const el = area.current;
    if (!el || line < 1) return;
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + Math.max(0, column - 1);
    el.focus();
    el.setSelectionRange(start, start + Math.max(1, (lines[line - 1]?.length ?? 0) - Math.max(0, column - 1)));
  };
  return (
    <div className="flex flex-col gap-2" data-testid="policy-editor">
      <div className="flex flex-wrap items-baseline gap-2">
        <h3 className="text-xs font-semibold text-zinc-100">Policy</h3>
        <span className="text-xs text-zinc-300">
          in force: {policy.data.source === "defaults" ? "the defaults" : policy.data.source === "file" ? `the repo's file ${policy.data.file ?? ""}` : "set here"}
          {policy.data.updatedAt && ` (updated ${new Date(policy.data.updatedAt).toLocaleString()})`}
        </span>
      </div>
      <textarea
        ref={area}
        aria-label="Policy text (YAML or JSON)"
        data-testid="policy-text"
        spellCheck={false}
        rows={Math.min(24, Math.max(8, lines.length + 1))}
        value={shown}
        aria-invalid={errors.length ? true : undefined}
        onChange={(e) => setText(e.target.value)}
        className={`${TEXTAREA_CLASS} whitespace-pre`}
      />
      {errors.length > 0 && (
        <div role="alert" data-testid="policy-errors" className="rounded-md border border-red-500/40 bg-red-500/10 p-2 text-xs text-red-100">
          <p className="mb-1 font-medium">Not saved: the policy in force is unchanged.</p>
          <ul className="flex flex-col gap-1">
            {errors.map((e, i) => (
              <li key={i} data-testid="policy-error" data-line={e.line}>
                <button type="button" onClick={() => goTo(e.line, e.column)} className="text-left underline-offset-2 hover:underline">
                  {e.line > 0 ? `Line ${e.line}, column ${e.column}: ` : ""}
                  {e.message}
                </button>
                {e.line > 0 && lines[e.line - 1] !== undefined && (
                  <pre className="mt-0.5 overflow-x-auto rounded bg-black/50 px-2 py-0.5 font-mono text-[11px] text-zinc-200">
                    {e.line} | {lines[e.line - 1]}
                  </pre>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="flex items-center gap-3">
        <button type="button" data-testid="policy-save" disabled={save.isPending || text === null} onClick={() => save.mutate(shown)} className="h-8 rounded-md bg-sky-600 px-3 text-xs font-medium text-white hover:bg-sky-500 disabled:opacity-50">
          {save.isPending ? "Saving…" : "Save policy"}
        </button>
        {save.isSuccess && text === null && (
          <span role="status" data-testid="policy-saved" className="text-xs text-emerald-300">
            Saved and in force.
          </span>
        )}
      </div>
    </div>
  );
}
