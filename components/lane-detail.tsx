"use client";
/**
 * The lane page (`/lanes/:id`): what the card shows and more — status (phase, blocker, next step,
 * tests, merge flags, Trust, how each process ended, usage), the lane's facts and checks — and
 * tabs for its live Output, the Conversation with its agent, the Diff with Merge, its Events as
 * sentences, and every Attempt. The tab lives in the URL (`?tab=`), so a view can be shared.
 */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useRef, type ReactNode } from "react";
import type { LaneView } from "@/lib/api";
import { WORKER_STATE_WORDS } from "@/lib/event-sentence";
import { GREEN_LEVELS, isAgentEngine } from "@/lib/task-packet";
import { api, ApiError, errorMessage } from "./api-client";
import { AppHeader } from "./app-header";
import { CopyButton } from "./copy-button";
import { LaneActions } from "./lane-actions";
import { LaneAttemptsView } from "./lane-attempts";
import { AheadBehind, CheckChips, ExitCode, LastEvent, StateBadge, WorktreePath } from "./lane-bits";
import { LaneConversation } from "./lane-conversation";
import { LaneDiffPanel } from "./lane-diff";
import { LaneEventsList } from "./lane-events-list";
import { LaneLog } from "./lane-log";
import { LaneStatus, type LaneTarget } from "./lane-status";
import { laneKeys } from "./query-keys";
import { formatAbsolute, formatDuration, formatRelative, useNow } from "./time";

const TABS = ["output", "conversation", "diff", "events", "attempts"] as const;
type Tab = (typeof TABS)[number];
const TAB_LABEL: Record<Tab, string> = { output: "Output", conversation: "Conversation", diff: "Diff & merge", events: "Events", attempts: "Attempts" };

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-[11px] uppercase tracking-wide text-zinc-400">{label}</dt>
      <dd className="mt-0.5 min-w-0 text-xs text-zinc-200">{children}</dd>
    </div>
  );
}

const mono = (s: string | null | undefined) => <span className="font-mono">{s ?? "—"}</span>;

function When({ iso }: { iso: string | null }) {
  const now = useNow();
  if (!iso) return <span className="text-zinc-400">—</span>;
  return (
    <time dateTime={iso} title={formatAbsolute(iso)}>
      {formatRelative(iso, now)}
    </time>
  );
}

function Facts({ lane }: { lane: LaneView }) {
  return (
    <dl className="grid grid-cols-2 gap-x-6 gap-y-3 rounded-lg border border-zinc-800 bg-zinc-900/50 p-4 md:grid-cols-4">
      <Fact label="Branch">
        <span className="flex min-w-0 items-center gap-1.5">
          <span className="min-w-0 truncate font-mono" title={lane.branch}>
            {lane.branch}
          </span>
          <CopyButton value={lane.branch} label="branch" />
        </span>
      </Fact>
      <Fact label="Base">{mono(lane.baseBranch)}</Fact>
      <Fact label="Ahead / behind">
        <AheadBehind lane={lane} baseName={lane.baseBranch} />
      </Fact>
      <Fact label="Worktree">
        <WorktreePath path={lane.worktreePath} />
      </Fact>
      <Fact label="Engine / attempt">
        {mono(lane.engine)} · attempt {lane.attempt}
      </Fact>
      <Fact label="Queue position">{lane.state === "queued" && lane.queuePosition !== null ? `#${lane.queuePosition}` : "—"}</Fact>
      <Fact label="Current process">{mono(lane.currentProcessId)}</Fact>
      {([["Created", lane.createdAt], ["Started", lane.startedAt], ["Ended", lane.endedAt]] as const).map(([label, iso]) => (
        <Fact key={label} label={label}>
          <When iso={iso} />
        </Fact>
      ))}
      <Fact label="Last event">
        <LastEvent event={lane.lastEvent} />
      </Fact>
    </dl>
  );
}

function ChecksTable({ checks }: { checks: LaneView["checks"] }) {
  const levels = GREEN_LEVELS.filter((l) => checks[l]);
  if (levels.length === 0) return null;
  return (
    <table className="w-full max-w-4xl text-left text-xs">
      <caption className="sr-only">Checks by level</caption>
      <thead className="text-[11px] uppercase tracking-wide text-zinc-400">
        <tr>
          <th className="py-1 pr-3 font-normal">Level</th>
          <th className="py-1 pr-3 font-normal">Command</th>
          <th className="py-1 pr-3 font-normal">Exit and tests</th>
          <th className="py-1 pr-3 font-normal">Duration</th>
        </tr>
      </thead>
      <tbody>
        {levels.map((level) => {
          const c = checks[level]!;
          return (
            <tr key={level} className="border-t border-zinc-800/70">
              <td className={`py-1 pr-3 font-mono ${c.status === "green" ? "text-emerald-300" : c.status === "red" ? "text-red-300" : "text-amber-300"}`}>
                {level} {c.status}
              </td>
              <td className="max-w-0 truncate py-1 pr-3 font-mono text-zinc-300" title={c.command.join(" ")}>
                {c.command.join(" ")}
              </td>
              <td className="py-1 pr-3">
                <ExitCode code={c.exitCode} />
                {c.tests && <span className="ml-2 text-zinc-400">{c.tests.passed} passed, {c.tests.failed} failed{c.tests.skipped ? `, ${c.tests.skipped} skipped` : ""}</span>}
              </td>
              <td className="py-1 pr-3 text-zinc-300">{c.durationMs === null ? "—" : formatDuration(c.durationMs)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function LaneDetail({ laneId }: { laneId: string }) {
  const lane = useQuery({ queryKey: laneKeys.detail(laneId), queryFn: () => api.lane(laneId) });
  // Refetched on every lane event of this lane (the realtime client invalidates the lane's keys).
  const attempts = useQuery({ queryKey: [...laneKeys.attempts(laneId), lane.data?.lastEvent?.id ?? 0], queryFn: () => api.attempts(laneId), enabled: !!lane.data, placeholderData: (prev) => prev });
  const notFound = lane.error instanceof ApiError && lane.error.status === 404;
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const promptRef = useRef<HTMLTextAreaElement>(null);
  const isAgent = !!lane.data && isAgentEngine(lane.data.engine);
  const requested = params.get("tab") as Tab | null;
  const tab: Tab = requested && TABS.includes(requested) && (requested !== "conversation" || isAgent) ? requested : "output";
  const setTab = (t: Tab) => router.replace(`${pathname}?tab=${t}`, { scroll: false });
  const go = (target: LaneTarget) => {
    if (target === "prompt") {
      setTab("conversation");
      setTimeout(() => promptRef.current?.focus(), 50);
    } else setTab(target);
  };
  const tabs = TABS.filter((t) => t !== "conversation" || isAgent);

  return (
    <>
      <AppHeader>
        <Link href="/" className="text-xs text-zinc-300 hover:text-sky-300">
          ← Board
        </Link>
      </AppHeader>
      <main className="mx-auto flex max-w-[1800px] flex-col gap-4 px-4 py-4">
        {lane.isPending && (
          <p role="status" className="text-xs text-zinc-400">
            Loading lane…
          </p>
        )}
        {lane.isError && !lane.data && (
          <div role="alert" data-testid="board-error" className="rounded-lg border border-red-500/30 bg-red-500/10 px-4 py-3 text-sm text-red-200">
            {notFound ? "No such lane." : `Could not load the lane: ${errorMessage(lane.error)}`}{" "}
            <Link href="/" className="underline">
              Back to the board
            </Link>
          </div>
        )}
        {lane.data && (
          <>
            <div
              data-testid="lane-detail"
              data-lane-id={lane.data.id}
              data-state={lane.data.state}
              className="flex flex-col gap-3 md:flex-row md:items-start md:justify-between"
            >
              <div className="min-w-0">
                <div className="flex flex-wrap items-center gap-2">
                  <StateBadge state={lane.data.state} />
                  {lane.data.worker && !["finished", "failed", "killed", "lost"].includes(lane.data.worker.state) && (
                    <span data-testid="worker-state" data-state={lane.data.worker.state} className="rounded-full bg-zinc-800 px-2 py-0.5 text-[11px] text-zinc-200">
                      agent {WORKER_STATE_WORDS[lane.data.worker.state]}
                    </span>
                  )}
                  <span className="font-mono text-xs text-zinc-400">{lane.data.slug}</span>
                </div>
                <h1 className="mt-1.5 break-words text-lg font-semibold leading-6 text-zinc-50">{lane.data.objective}</h1>
              </div>
              <LaneActions lane={lane.data} />
            </div>
            <div className="grid gap-4 xl:grid-cols-[minmax(0,1fr)_minmax(0,1fr)]">
              <LaneStatus lane={lane.data} attempts={attempts.data} onGo={go} />
              <div className="flex min-w-0 flex-col gap-3">
                <Facts lane={lane.data} />
                <CheckChips checks={lane.data.checks} />
                <ChecksTable checks={lane.data.checks} />
              </div>
            </div>
            {/* Wrapping, not a sideways scroll: at 390 px the fifth tab (Attempts) was out of view with nothing to say so. */}
            <div role="tablist" aria-label="Lane views" className="flex flex-wrap gap-x-1 border-b border-zinc-800">
              {tabs.map((t) => (
                <button
                  key={t}
                  role="tab"
                  type="button"
                  id={`tab-${t}`}
                  aria-selected={tab === t}
                  aria-controls={`panel-${t}`}
                  data-testid={`tab-${t}`}
                  onClick={() => setTab(t)}
                  className={`-mb-px shrink-0 border-b-2 px-3 py-2 text-xs font-medium focus-visible:outline-2 focus-visible:outline-sky-500 ${tab === t ? "border-sky-400 text-zinc-50" : "border-transparent text-zinc-300 hover:text-zinc-100"}`}
                >
                  {TAB_LABEL[t]}
                  {t === "attempts" && attempts.data && attempts.data.attempts.length > 1 && <span className="ml-1 text-zinc-400">{attempts.data.attempts.length}</span>}
                </button>
              ))}
            </div>
            <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="min-w-0">
              {tab === "output" && <LaneLog key={laneId} laneId={laneId} attempts={attempts.data} />}
              {tab === "conversation" && <LaneConversation ref={promptRef} lane={lane.data} />}
              {tab === "diff" && <LaneDiffPanel lane={lane.data} />}
              {tab === "events" && <LaneEventsList laneId={laneId} />}
              {tab === "attempts" && <LaneAttemptsView laneId={laneId} attempts={attempts.data} />}
            </div>
          </>
        )}
      </main>
    </>
  );
}
