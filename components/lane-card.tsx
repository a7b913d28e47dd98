"use client";
/**
 * One lane on the board: a selection box, its badge (the worker's wait when a person is needed),
 * objective, branch and worktree with copy buttons, freshness, checks, what it needs and the
 * action that resolves it, the next step, which process exited how, the last event, a live tail
 * of its output (only while the card is on screen: the board is virtualized), and Kill/Restart.
 */
import Link from "next/link";
import { memo } from "react";
import type { LaneView } from "@/lib/api";
import type { Attention } from "@/lib/lane-attention";
import { AttentionActionButton } from "./attention-action";
import { CheckBadges } from "./check-badges";
import { CopyButton } from "./copy-button";
import { LaneActions } from "./lane-actions";
import { AheadBehind, CheckChips, ExitSummary, LaneStatusBadge, LastEvent, WorktreePath } from "./lane-bits";
import { LaneSummaryLine } from "./lane-summary";
import { LogTail } from "./log-tail";
import { QueueReason } from "./queue-reason";

const ACCENT: Partial<Record<LaneView["state"], string>> = {
  running: "before:bg-blue-500",
  starting: "before:bg-sky-500",
  checking: "before:bg-amber-500",
  failed: "before:bg-red-500",
  finished: "before:bg-emerald-500",
  killed: "before:bg-orange-500",
  lost: "before:bg-fuchsia-500",
};

export interface LaneCardProps {
  lane: LaneView;
  attention: Attention | null;
  selected: boolean;
  onSelect: (laneId: string, selected: boolean) => void;
  /** The keyboard cursor (j/k) is on this card. */
  active?: boolean;
}

export const LaneCard = memo(function LaneCard({ lane, attention, selected, onSelect, active = false }: LaneCardProps) {
  const href = `/lanes/${encodeURIComponent(lane.id)}`;
  const name = lane.slug || lane.id;
  return (
    <article
      data-testid="lane-card"
      data-lane-id={lane.id}
      data-state={lane.state}
      data-active={active || undefined}
      aria-labelledby={`lane-${lane.id}-title`}
      className={`relative flex h-full min-w-0 flex-col gap-1.5 overflow-hidden rounded-lg border bg-zinc-900/60 p-3 shadow-sm before:absolute before:inset-y-0 before:left-0 before:w-0.5 before:content-[''] ${ACCENT[lane.state] ?? "before:bg-zinc-700"} ${active ? "border-sky-500/80 ring-1 ring-sky-500/60" : selected ? "border-sky-700" : "border-zinc-800"}`}
    >
      <header className="flex min-w-0 items-center gap-2">
        <input
          type="checkbox"
          data-testid="lane-select"
          aria-label={`Select lane ${name}`}
          checked={selected}
          onChange={(e) => onSelect(lane.id, e.target.checked)}
          className="size-3.5 shrink-0 accent-sky-500"
        />
        <LaneStatusBadge lane={lane} />
        {lane.state === "queued" && lane.queuePosition !== null && (
          <span className="rounded bg-zinc-800 px-1.5 py-0.5 font-mono text-[11px] text-zinc-300" title="Position in the start queue">
            #{lane.queuePosition}
          </span>
        )}
        <span className="ml-auto truncate font-mono text-[11px] text-zinc-400" title={`engine ${lane.engine}, attempt ${lane.attempt}`}>
          {lane.engine} · try {lane.attempt}
        </span>
      </header>
      <QueueReason lane={lane} />

      <h3 id={`lane-${lane.id}-title`} className="line-clamp-2 min-h-10 text-sm font-medium leading-5 text-zinc-100">
        {/* No prefetch (here and in the other board views): each card scrolled into view would request its lane page. */}
        <Link prefetch={false} href={href} className="hover:text-sky-300 hover:underline">
          {lane.objective}
        </Link>
      </h3>

      <div className="flex min-w-0 items-center gap-1.5">
        <span className="min-w-0 truncate font-mono text-xs text-sky-300" title={lane.branch} data-testid="lane-branch">
          {lane.branch}
        </span>
        <CopyButton value={lane.branch} label="branch" />
        <span className="ml-auto shrink-0">
          <AheadBehind lane={lane} baseName={lane.baseBranch} />
        </span>
      </div>
      <WorktreePath path={lane.worktreePath} />

      <CheckChips checks={lane.checks} />
      <CheckBadges lane={lane} />
      {attention && (
        <div data-testid="lane-attention" data-kind={attention.kind} className="flex min-w-0 items-center gap-2 rounded-md bg-amber-500/10 px-2 py-1 text-xs text-amber-100 ring-1 ring-inset ring-amber-500/30">
          <span className="min-w-0 truncate" title={attention.reason}>
            {attention.reason}
          </span>
          <span className="ml-auto shrink-0">
            <AttentionActionButton lane={lane} action={attention.action} />
          </span>
        </div>
      )}
      <LaneSummaryLine lane={lane} />

      <div className="flex min-w-0 items-center gap-3 text-xs text-zinc-400">
        <ExitSummary lane={lane} />
        {/* A flex box, so the event's type gives way (truncated) before its time does. */}
        <span className="ml-auto flex min-w-0">
          <LastEvent event={lane.lastEvent} />
        </span>
      </div>

      <LogTail key={lane.id} laneId={lane.id} lines={5} />

      <footer className="mt-auto flex items-center gap-2">
        <LaneActions lane={lane} />
        <Link prefetch={false} href={href} aria-label={`Open lane ${name}`} className="ml-auto shrink-0 text-xs text-zinc-300 hover:text-sky-300">
          Details →
        </Link>
      </footer>
    </article>
  );
});
