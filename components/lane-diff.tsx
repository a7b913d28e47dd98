"use client";
/**
 * The lane's Diff tab: merge readiness and the Merge button on top (merge-panel.tsx), then the
 * files the branch changed against its base (a list first; each file's patch loads lazily, see
 * diff-file.tsx), unified or split. Line comments collect in a tray and go to the agent as one
 * follow-up prompt, quoting each commented line.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { ViewType } from "react-diff-view";
import type { LaneView } from "@/lib/api";
import { api, errorMessage } from "./api-client";
import { DiffFileView, type LineComment } from "./diff-file";
import { promptAvailability } from "./lane-conversation";
import { MergePanel } from "./merge-panel";
import { laneKeys } from "./query-keys";
import { SectionHeading } from "./section-heading";
import { ToggleGroup } from "./toggle-group";

const DIFF_LAYOUTS = ["unified", "split"] as const satisfies readonly ViewType[];
const DIFF_LAYOUT_LABEL = { unified: "unified", split: "split" } as const;

/** The follow-up prompt a set of line comments becomes. */
export function commentsPrompt(branch: string, comments: readonly LineComment[]): string {
  const parts = comments.map((c) => `${c.path}, line ${c.line}${c.side === "old" ? " (removed)" : ""}: \`${c.code.trim().slice(0, 200)}\`\n  ${c.text.replace(/\n/g, "\n  ")}`);
  return `Review comments on branch ${branch}:\n\n${parts.join("\n\n")}\n\nPlease address each comment, then commit.`;
}

export function LaneDiffPanel({ lane }: { lane: LaneView }) {
  const qc = useQueryClient();
  // Re-read whenever the lane changes (a new commit is an event).
  const diff = useQuery({ queryKey: [...laneKeys.diff(lane.id), lane.lastEvent?.id ?? 0], queryFn: () => api.diff(lane.id), placeholderData: (prev) => prev });
  const [viewType, setViewType] = useState<ViewType>("unified");
  const [comments, setComments] = useState<LineComment[]>([]);
  const send = useMutation({
    mutationFn: () => api.prompt(lane.id, commentsPrompt(lane.branch, comments)),
    onSuccess: () => {
      setComments([]);
      void qc.invalidateQueries({ queryKey: laneKeys.detail(lane.id) });
    },
  });
  const onComment = (c: LineComment | { remove: string; path: string }) =>
    setComments((list) => {
      const rest = list.filter((x) => !(x.path === c.path && x.key === ("remove" in c ? c.remove : c.key)));
      return "remove" in c ? rest : [...rest, c];
    });
  const avail = promptAvailability(lane);
  const d = diff.data;
  return (
    <section aria-labelledby="diff-heading" className="flex flex-col gap-3" data-testid="lane-diff">
      <MergePanel lane={lane} />
      <div className="flex flex-wrap items-center gap-3">
        <SectionHeading id="diff-heading">Changes</SectionHeading>
        {d && (
          <span className="text-xs text-zinc-300" data-testid="diff-summary">
            {d.files.length} file{d.files.length === 1 ? "" : "s"} changed, <span className="text-emerald-300">+{d.additions}</span> <span className="text-red-300">−{d.deletions}</span> against{" "}
            <span className="font-mono">{d.baseBranch}</span> at <span className="font-mono">{d.baseSha.slice(0, 8)}</span>
          </span>
        )}
        <ToggleGroup label="Diff layout" options={DIFF_LAYOUTS} labels={DIFF_LAYOUT_LABEL} value={viewType} onChange={setViewType} testIdPrefix="diff-view-" className="ml-auto" />
      </div>
      {comments.length > 0 && (
        <div className="flex flex-wrap items-center gap-3 rounded-lg border border-sky-800/60 bg-sky-950/40 px-3 py-2 text-xs" data-testid="comment-tray">
          <span className="text-sky-100">
            {comments.length} comment{comments.length === 1 ? "" : "s"} ready for the agent
          </span>
          <button
            type="button"
            data-testid="send-comments"
            disabled={!avail.enabled || send.isPending}
            onClick={() => send.mutate()}
            className="rounded-md bg-sky-600 px-2.5 py-1 font-medium text-white hover:bg-sky-500 disabled:cursor-not-allowed disabled:opacity-40"
          >
            {send.isPending ? "Sending…" : "Send comments to the agent"}
          </button>
          <span className="text-zinc-300">{avail.reason}</span>
          {send.error && (
            <span role="alert" className="text-red-300">
              {errorMessage(send.error)}
            </span>
          )}
        </div>
      )}
      {send.isSuccess && comments.length === 0 && (
        <p role="status" className="text-xs text-emerald-300" data-testid="comments-sent">
          Comments sent: {send.data.mode === "follow_up" ? "a follow-up run started" : "the agent has them"}.
        </p>
      )}
      {diff.isPending && <p className="text-xs text-zinc-400">Loading the diff…</p>}
      {diff.isError && (
        <p role="alert" className="text-xs text-red-300" data-testid="diff-error">
          {errorMessage(diff.error)}
        </p>
      )}
      {d && d.files.length === 0 && <p className="text-xs text-zinc-400">The branch has no changes against {d.baseBranch}.</p>}
      {d && (
        <nav aria-label="Changed files" className="rounded-lg border border-zinc-800 bg-zinc-900/40 p-2">
          <ul className="flex max-h-48 flex-col overflow-auto text-xs">
            {d.files.map((f) => (
              <li key={f.path} className="flex min-w-0 gap-2">
                <a href={`#file-${encodeURIComponent(f.path)}`} className="min-w-0 truncate font-mono text-zinc-200 hover:text-sky-300">
                  {f.path}
                </a>
                <span className="ml-auto shrink-0 font-mono">
                  {f.binary ? "bin" : <><span className="text-emerald-300">+{f.additions}</span> <span className="text-red-300">−{f.deletions}</span></>}
                </span>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {d &&
        d.files.map((f) => (
          <div key={f.path} id={`file-${encodeURIComponent(f.path)}`} className="scroll-mt-16">
            <DiffFileView laneId={lane.id} file={f} at={{ base: d.baseSha, head: d.head }} viewType={viewType} comments={comments.filter((c) => c.path === f.path)} onComment={onComment} />
          </div>
        ))}
    </section>
  );
}
