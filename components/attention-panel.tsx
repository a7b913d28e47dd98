"use client";
/**
 * "Needs you": the top of the board. Lanes waiting for trust, blocked or escalated, red,
 * misdelivered, over budget, waiting for a prompt, or merge-ready, newest first, each with its
 * reason and the one action that resolves it. Shows the first {@link SHOWN} and a link to filter
 * the board to all of them.
 */
import Link from "next/link";
import { ATTENTION_SHOWN } from "@/lib/board-first-screen";
import type { BoardLane } from "@/lib/board-query";
import { ATTENTION_LABEL, type Attention } from "@/lib/lane-attention";
import { AttentionActionButton } from "./attention-action";

const SHOWN = ATTENTION_SHOWN;

const KIND_STYLE: Record<Attention["kind"], string> = {
  trust: "bg-amber-500/20 text-amber-100",
  blocked: "bg-orange-500/20 text-orange-100",
  misdelivered: "bg-red-500/20 text-red-100",
  red: "bg-red-500/20 text-red-100",
  over_budget: "bg-amber-500/20 text-amber-100",
  prompt: "bg-sky-500/20 text-sky-100",
  merge_ready: "bg-emerald-500/20 text-emerald-100",
};

export function AttentionPanel({ items, total, onShowAll }: { items: (BoardLane & { attention: Attention })[]; total: number; onShowAll: () => void }) {
  if (total === 0) {
    return (
      <section aria-label="Needs you" data-testid="attention-panel" data-count={0} className="rounded-lg border border-zinc-800 px-3 py-2 text-xs text-zinc-400">
        Nothing needs you right now.
      </section>
    );
  }
  return (
    <section aria-labelledby="attention-title" data-testid="attention-panel" data-count={total} className="rounded-lg border border-amber-500/30 bg-amber-500/[0.04] p-2">
      <div className="flex items-baseline gap-3 px-1 pb-1">
        <h2 id="attention-title" className="text-sm font-semibold text-amber-100">
          Needs you <span className="font-mono">({total})</span>
        </h2>
        {total > SHOWN && (
          <button type="button" onClick={onShowAll} className="text-xs text-sky-300 underline hover:no-underline">
            Show all {total} on the board
          </button>
        )}
      </div>
      <ul className="flex flex-col divide-y divide-zinc-800/80">
        {items.slice(0, SHOWN).map(({ lane, attention }) => (
          <li key={lane.id} data-testid="attention-item" data-lane-id={lane.id} data-kind={attention.kind} className="flex min-w-0 flex-wrap items-center gap-x-3 gap-y-1 px-1 py-1.5">
            <span className={`shrink-0 rounded px-1.5 py-0.5 text-[11px] font-medium ${KIND_STYLE[attention.kind]}`}>{ATTENTION_LABEL[attention.kind]}</span>
            <Link prefetch={false} href={`/lanes/${encodeURIComponent(lane.id)}`} className="min-w-0 max-w-full truncate text-sm text-zinc-100 hover:text-sky-300 hover:underline sm:max-w-[40%]" title={lane.objective}>
              {lane.objective}
            </Link>
            <span className="min-w-0 flex-1 basis-48 truncate text-xs text-zinc-300" title={attention.reason}>
              {attention.reason}
            </span>
            <AttentionActionButton lane={lane} action={attention.action} />
          </li>
        ))}
      </ul>
    </section>
  );
}
