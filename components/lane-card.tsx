"use client";
/**
 * One lane on the board: objective, state, checks per level, branch and freshness, worktree,
 * last exit and event, queue position, a live tail of its output, and Kill/Restart.
 */
import Link from "next/link";
import type { LaneView } from "@/lib/api";
import { CheckBadges } from "./check-badges";
import { LaneActions } from "./lane-actions";
import { AheadBehind, CheckChips, ExitCode, LastEvent, StateBadge, WorktreePath } from "./lane-bits";
import { LaneSummaryLine } from "./lane-summary";
import { LogTail } from "./log-tail";
import { QueueReason } from "./queue-reason";
import { TrustButton } from "./trust-button";

const ACCENT: Partial<Record<LaneView["state"], string>> = {
  running: "before:bg-blue-500",
  starting: "before:bg-sky-500",
  checking: "before:bg-amber-500",
  failed: "before:bg-red-500",
  finished: "before:bg-emerald-500",
  killed: "before:bg-orange-500",
  lost: "before:bg-fuchsia-500",
};

export function LaneCard({ lane }: { lane: LaneView }) {
  const href = `/lanes/${encodeURIComponent(lane.id)}`;
  return (
    <article
      data-testid="lane-card"
      data-lane-id={lane.id}
      data-state={lane.state}
      aria-labelledby={`lane-${lane.id}-title`}
      className={`relative flex min-w-0 flex-col gap-1.5 overflow-hidden rounded-lg border border-zinc-800 bg-zinc-900/60 p-3 shadow-sm before:absolute before:inset-y-0 before:left-0 before:w-0.5 before:content-[''] ${ACCENT[lane.state] ?? "before:bg-zinc-700"}`}
    >
      <header className="flex items-center gap-2">
        <StateBadge state={lane.state} />
        {lane.state === "queued" && lane.queuePosition !== null && (
          <span className="rounded bg-zinc-800 px-1.5 py-0.5 font-mono text-[11px] text-zinc-300" title="Position in the start queue">
            #{lane.queuePosition} in queue
          </span>
        )}
        <span className="ml-auto truncate font-mono text-[11px] text-zinc-500" title={`engine ${lane.engine}, attempt ${lane.attempt}`}>
          {lane.engine} · try {lane.attempt}
        </span>
      </header>
      <QueueReason lane={lane} />

      <h3 id={`lane-${lane.id}-title`} className="line-clamp-2 min-h-10 text-sm font-medium leading-5 text-zinc-100">
        <Link href={href} className="hover:text-sky-300 hover:underline focus-visible:underline focus-visible:outline-none">
          {lane.objective}
        </Link>
      </h3>

      <div className="flex min-w-0 items-center gap-2">
        <span className="truncate font-mono text-xs text-sky-300/90" title={lane.branch}>
          {lane.branch}
        </span>
        <span className="ml-auto shrink-0">
          <AheadBehind lane={lane} baseName={lane.baseBranch} />
        </span>
      </div>
      <WorktreePath path={lane.worktreePath} />

      <CheckChips checks={lane.checks} />
      <CheckBadges lane={lane} />
      <LaneSummaryLine summary={lane.summary} />
      <TrustButton lane={lane} />

      <div className="flex min-w-0 items-center gap-3 text-xs text-zinc-500">
        <span className="shrink-0">
          exit <ExitCode code={lane.lastExitCode} />
        </span>
        <span className="min-w-0 truncate">
          <LastEvent event={lane.lastEvent} />
        </span>
      </div>

      <LogTail key={lane.id} laneId={lane.id} />

      <footer className="flex items-center gap-2">
        <LaneActions lane={lane} />
        <Link
          href={href}
          aria-label={`Open lane ${lane.slug || lane.id}`}
          className="ml-auto shrink-0 text-xs text-zinc-400 hover:text-sky-300"
        >
          Details →
        </Link>
      </footer>
    </article>
  );
}
