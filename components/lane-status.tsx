"use client";
/**
 * The lane page's status panel: what the card shows, in full — phase, worker state, blocker, the
 * next step as a button, test counts per level, merge flags, Trust — plus how each process of the
 * current attempt ended (never a green "exit 0" when a check failed) and usage and cost for the
 * lane and its repo.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { LaneView } from "@/lib/api";
import { describeExit, formatUsd, WORKER_STATE_WORDS } from "@/lib/event-sentence";
import { nextStep, type NextStepKind } from "@/lib/next-step";
import type { LaneAttempts } from "@/lib/review-api";
import { api, errorMessage } from "./api-client";
import { CheckBadges } from "./check-badges";
import { laneKeys } from "./query-keys";
import { TrustButton } from "./trust-button";

/** Where the page can take the person: a tab, or the prompt box. */
export type LaneTarget = "output" | "diff" | "prompt";

const STEP_BUTTON: Partial<Record<NextStepKind, string>> = {
  prompt: "Write a prompt",
  restart: "Restart",
  merge: "Review and merge",
  open_output: "Open the output",
  open_diff: "Open the diff",
};

function Row({ label, children, testId }: { label: string; children: React.ReactNode; testId?: string }) {
  return (
    <div className="grid grid-cols-[7.5rem_minmax(0,1fr)] gap-x-3 py-1" data-testid={testId}>
      <dt className="text-xs text-zinc-400">{label}</dt>
      <dd className="min-w-0 text-xs text-zinc-200">{children}</dd>
    </div>
  );
}

function tokens(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : n.toLocaleString("en");
}

/** "1.2k in / 340 out tokens · $0.0123" */
export function UsageText({ usage }: { usage: { inputTokens: number; outputTokens: number; costUsd: number | null } | null }) {
  if (!usage || (usage.inputTokens === 0 && usage.outputTokens === 0 && usage.costUsd === null)) return <span className="text-zinc-400">none reported</span>;
  return (
    <span className="font-mono">
      {tokens(usage.inputTokens)} in / {tokens(usage.outputTokens)} out tokens · {formatUsd(usage.costUsd)}
    </span>
  );
}

/** How each process of the newest attempt ended, e.g. "worker exited cleanly (code 0) · check targeted exited with code 1". */
function Exits({ attempts }: { attempts: LaneAttempts | undefined }) {
  // Until the attempts arrive nothing is known: "no process yet" would be false for an ended lane.
  if (!attempts) return <span className="text-zinc-400">loading…</span>;
  const current = attempts.attempts.at(-1);
  if (!current || current.processes.length === 0) return <span className="text-zinc-400">no process yet</span>;
  const levelOf = new Map(current.checks.map((c) => [c.processId, c.level]));
  return (
    <ul className="flex flex-col gap-0.5" data-testid="lane-exits">
      {current.processes.map((p) => {
        const live = p.status === "running" || p.status === "starting";
        const ok = p.exitCode === 0 && !p.signal;
        const name = p.role === "check" ? `check ${levelOf.get(p.id) ?? ""}`.trim() : p.role;
        return (
          <li key={p.id} data-testid="lane-exit" data-role={p.role} data-exit-code={p.exitCode ?? ""} className={live ? "text-sky-300" : ok ? "text-emerald-300" : "text-red-300"}>
            {name} {live ? "is running" : p.status === "lost" ? "was lost" : p.status === "spawn_failed" ? "could not start" : describeExit(p.exitCode, p.signal)}
          </li>
        );
      })}
    </ul>
  );
}

export function LaneStatus({ lane, attempts, onGo }: { lane: LaneView; attempts: LaneAttempts | undefined; onGo: (target: LaneTarget) => void }) {
  const qc = useQueryClient();
  const restart = useMutation({ mutationFn: () => api.restart(lane.id), onSuccess: () => void qc.invalidateQueries({ queryKey: laneKeys.all }) });
  const s = lane.summary;
  const step = nextStep(lane);
  const act = () => {
    if (step.kind === "restart") restart.mutate();
    else if (step.kind === "prompt") onGo("prompt");
    else if (step.kind === "open_output") onGo("output");
    else if (step.kind === "merge" || step.kind === "open_diff") onGo("diff");
  };
  const button = STEP_BUTTON[step.kind];
  return (
    <section aria-labelledby="status-heading" className="rounded-lg border border-zinc-800 bg-zinc-900/50 p-4" data-testid="lane-status">
      <h2 id="status-heading" className="sr-only">
        Status
      </h2>
      <dl className="divide-y divide-zinc-800/60">
        <Row label="Phase" testId="lane-summary">
          <span data-testid="lane-phase" data-phase={s?.phase ?? ""} className="font-medium">
            {s ? s.phase.replace("_", " ") : lane.state}
          </span>
          {s?.phaseDetail && <span className="text-zinc-400"> · {s.phaseDetail}</span>}
          {lane.worker && <span className="text-zinc-400"> · worker {WORKER_STATE_WORDS[lane.worker.state]}</span>}
        </Row>
        {s?.blocker && (
          <Row label="Blocker">
            <span data-testid="lane-blocker" className="text-red-300">
              {s.blocker.failureClass && <span className="font-mono">{s.blocker.failureClass}: </span>}
              {s.blocker.reason}
            </span>
          </Row>
        )}
        <Row label="Next step">
          <span className="flex flex-wrap items-center gap-2">
            <span data-testid="lane-next-step" data-kind={step.kind}>
              {step.text}
            </span>
            {button && (
              <button
                type="button"
                data-testid="next-step-button"
                onClick={act}
                disabled={restart.isPending}
                className="rounded-md bg-sky-600 px-2.5 py-1 text-xs font-medium text-white hover:bg-sky-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400 disabled:opacity-50"
              >
                {restart.isPending ? "Restarting…" : button}
              </button>
            )}
            {restart.error && (
              <span role="alert" className="text-red-300">
                {errorMessage(restart.error)}
              </span>
            )}
          </span>
        </Row>
        {lane.worker?.state === "trust_required" && (
          <Row label="Trust">
            <TrustButton lane={lane} />
          </Row>
        )}
        <Row label="Tests and merge">
          <CheckBadges lane={lane} />
          {!lane.merged && lane.mergeReady == null && <span className="text-zinc-400">{Object.keys(lane.checks).length === 0 ? "no checks have run" : "merge readiness not evaluated yet"}</span>}
          {lane.behind !== null && lane.behind > 0 && <span className="ml-1 text-amber-300">{lane.behind} behind {lane.baseBranch}</span>}
          {lane.baseMoved && <span className="ml-1 text-zinc-400">({lane.baseBranch} moved since the lane started)</span>}
        </Row>
        <Row label="How it ended">
          <Exits attempts={attempts} />
        </Row>
        <Row label="Usage">
          <span className="flex flex-col gap-0.5">
            {attempts ? (
              <>
                <span data-testid="lane-usage">
                  this lane: <UsageText usage={attempts.usage} />
                </span>
                <span data-testid="repo-usage" className="text-zinc-400">
                  its repo ({attempts.repoUsage.lanes} lanes): <UsageText usage={attempts.repoUsage} />
                </span>
              </>
            ) : (
              <span className="text-zinc-400">loading…</span>
            )}
          </span>
        </Row>
      </dl>
    </section>
  );
}
