"use client";
/**
 * The lane summary on a card (lib/lane-summary.ts): phase, current blocker, last checkpoint, and
 * the next step said as an action on the page (lib/next-step.ts: never an API path, never "merge"
 * unless merge-ready). Renders nothing when the view has no summary.
 */
import type { LaneView } from "@/lib/api";
import { nextStep } from "@/lib/next-step";
import type { LaneSummary } from "@/lib/lane-summary";

const PHASE_STYLE: Partial<Record<LaneSummary["phase"], string>> = {
  awaiting_trust: "text-amber-300",
  blocked: "text-amber-300",
  ready: "text-sky-300",
  working: "text-blue-300",
  failed: "text-red-300",
  finished: "text-emerald-300",
};

export function LaneSummaryLine({ lane }: { lane: LaneView }) {
  const summary = lane.summary;
  if (!summary) return null;
  const phase = summary.phase.replace("_", " ");
  const next = nextStep(lane);
  return (
    <dl data-testid="lane-summary" data-phase={summary.phase} className="grid min-w-0 grid-cols-[auto_1fr] gap-x-2 text-xs leading-5">
      <dt className="text-zinc-400">phase</dt>
      <dd className={`truncate ${PHASE_STYLE[summary.phase] ?? "text-zinc-300"}`} title={summary.phaseDetail ?? phase}>
        {phase}
        {summary.phaseDetail && <span className="text-zinc-400"> · {summary.phaseDetail}</span>}
      </dd>
      {summary.blocker && (
        <>
          <dt className="text-zinc-400">blocker</dt>
          <dd data-testid="lane-blocker" className="truncate text-red-300" title={summary.blocker.reason}>
            {summary.blocker.failureClass && <span className="font-mono">{summary.blocker.failureClass}: </span>}
            {summary.blocker.reason}
          </dd>
        </>
      )}
      {summary.lastCheckpoint && (
        <>
          <dt className="text-zinc-400">last ok</dt>
          <dd className="truncate text-zinc-300" title={summary.lastCheckpoint.label}>
            {summary.lastCheckpoint.label}
          </dd>
        </>
      )}
      <dt className="text-zinc-400">next</dt>
      <dd data-testid="lane-next-action" data-action={summary.nextAction.action} data-step={next.kind} className="truncate text-zinc-100" title={next.text}>
        {next.text}
      </dd>
    </dl>
  );
}
