"use client";
/**
 * The lane page (`/lanes/:id`): the lane's facts in full, its checks, the whole live log
 * (virtualized), Kill/Restart, and its recent events.
 */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { ReactNode } from "react";
import type { LaneView } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";
import { GREEN_LEVELS } from "@/lib/task-packet";
import { api, ApiError, errorMessage } from "./api-client";
import { AppHeader } from "./app-header";
import { LaneActions } from "./lane-actions";
import { AheadBehind, CheckChips, ExitCode, LastEvent, StateBadge, WorktreePath } from "./lane-bits";
import { laneKeys } from "./query-keys";
import { formatAbsolute, formatDuration, formatRelative, useNow } from "./time";
import { useLaneLog } from "./use-lane-log";
import { VirtualLog } from "./virtual-log";

/** Lines of history loaded on open, and kept in the browser. */
const HISTORY_LINES = 5_000;
const MAX_LINES = 50_000;
/** Events shown, newest first. The API lists oldest first, so the newest are the end of a large page. */
const EVENTS_SHOWN = 100;

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-[11px] uppercase tracking-wide text-zinc-500">{label}</dt>
      <dd className="mt-0.5 min-w-0 text-xs text-zinc-200">{children}</dd>
    </div>
  );
}

const mono = (s: string | null | undefined) => <span className="font-mono">{s ?? "—"}</span>;

function When({ iso }: { iso: string | null }) {
  const now = useNow();
  if (!iso) return <span className="text-zinc-500">—</span>;
  return (
    <time dateTime={iso} title={formatAbsolute(iso)}>
      {formatRelative(iso, now)}
    </time>
  );
}

function Facts({ lane }: { lane: LaneView }) {
  return (
    <dl className="grid grid-cols-2 gap-x-6 gap-y-3 rounded-lg border border-zinc-800 bg-zinc-900/50 p-4 md:grid-cols-4">
      <Fact label="Branch">{mono(lane.branch)}</Fact>
      <Fact label="Base">{mono(lane.baseBranch)}</Fact>
      <Fact label="Ahead / behind">
        <AheadBehind lane={lane} baseName={lane.baseBranch} />
      </Fact>
      <Fact label="Last exit code">
        <ExitCode code={lane.lastExitCode} />
      </Fact>
      <Fact label="Worktree">
        <WorktreePath path={lane.worktreePath} />
      </Fact>
      <Fact label="Engine / attempt">
        {mono(lane.engine)} · attempt {lane.attempt}
      </Fact>
      <Fact label="Queue position">{lane.state === "queued" && lane.queuePosition !== null ? `#${lane.queuePosition}` : "—"}</Fact>
      <Fact label="Current process">{mono(lane.currentProcessId)}</Fact>
      <Fact label="Created">
        <When iso={lane.createdAt} />
      </Fact>
      <Fact label="Started">
        <When iso={lane.startedAt} />
      </Fact>
      <Fact label="Ended">
        <When iso={lane.endedAt} />
      </Fact>
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
      <thead className="text-[11px] uppercase tracking-wide text-zinc-500">
        <tr>
          <th className="py-1 pr-3 font-normal">Level</th>
          <th className="py-1 pr-3 font-normal">Command</th>
          <th className="py-1 pr-3 font-normal">Exit</th>
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
              </td>
              <td className="py-1 pr-3 text-zinc-400">{c.durationMs === null ? "—" : formatDuration(c.durationMs)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function LaneLog({ laneId }: { laneId: string }) {
  const log = useLaneLog(laneId, { tail: 500, history: HISTORY_LINES, maxEntries: MAX_LINES });
  const lines = log.entries.filter((e) => e.kind === "line").length;
  return (
    <section aria-labelledby="log-heading" className="flex flex-col gap-2">
      <div className="flex flex-wrap items-baseline gap-3">
        <h2 id="log-heading" className="text-sm font-semibold text-zinc-100">
          Output
        </h2>
        <span className="text-xs text-zinc-500">{lines.toLocaleString("en")} lines</span>
        <span className="inline-flex items-center gap-1 text-xs text-zinc-500">
          <span aria-hidden className="h-3 w-0.5 bg-red-500/70" /> stderr
        </span>
        {(log.truncated || log.trimmed > 0) && (
          <span data-testid="log-truncated" className="rounded bg-amber-500/10 px-1.5 py-0.5 text-[11px] text-amber-300 ring-1 ring-inset ring-amber-500/30">
            output truncated: older lines are not shown
          </span>
        )}
        {log.dropped > 0 && <span className="text-xs text-amber-300">{log.dropped.toLocaleString("en")} live lines dropped</span>}
        {log.error && (
          <span role="alert" className="text-xs text-red-300">
            {log.error}
          </span>
        )}
      </div>
      <VirtualLog entries={log.entries} label="Lane output" emptyText={log.loaded ? "No output yet." : "Loading output…"} />
    </section>
  );
}

function summarize(payload: unknown): string {
  const json = JSON.stringify(payload);
  return json.length > 160 ? `${json.slice(0, 157)}…` : json;
}

function EventsList({ laneId }: { laneId: string }) {
  const now = useNow();
  const events = useQuery({
    queryKey: laneKeys.events(laneId),
    // The newest page only (it reads the rows it shows, however long the history), kept oldest
    // first in the cache so live events append to it.
    queryFn: async (): Promise<readonly LaneEvent[]> => ((await api.newestEvents({ laneId, limit: EVENTS_SHOWN })).events as LaneEvent[]).toReversed(),
  });
  const recent = (events.data ?? []).slice(-EVENTS_SHOWN).reverse();
  return (
    <section aria-labelledby="events-heading" className="flex min-h-0 flex-col gap-2">
      <h2 id="events-heading" className="text-sm font-semibold text-zinc-100">
        Recent events
      </h2>
      {events.isError && (
        <p role="alert" className="text-xs text-red-300">
          {errorMessage(events.error)}
        </p>
      )}
      <ol data-testid="lane-events" className="max-h-[60vh] divide-y divide-zinc-800/70 overflow-auto rounded-lg border border-zinc-800 bg-zinc-900/40">
        {recent.length === 0 && <li className="p-3 text-xs text-zinc-500">{events.isPending ? "Loading…" : "No events."}</li>}
        {recent.map((ev) => (
          <li key={ev.id} data-testid="lane-event" data-event-type={ev.type} className="px-3 py-1.5">
            <div className="flex items-baseline gap-2 text-xs">
              <span className="font-mono text-zinc-200">{ev.type}</span>
              <time dateTime={ev.at} title={formatAbsolute(ev.at)} className="ml-auto shrink-0 text-zinc-500">
                {formatRelative(ev.at, now)}
              </time>
            </div>
            <p className="truncate font-mono text-[11px] text-zinc-500" title={JSON.stringify(ev.payload)}>
              #{ev.id} {summarize(ev.payload)}
            </p>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function LaneDetail({ laneId }: { laneId: string }) {
  const lane = useQuery({ queryKey: laneKeys.detail(laneId), queryFn: () => api.lane(laneId) });
  const notFound = lane.error instanceof ApiError && lane.error.status === 404;

  return (
    <>
      <AppHeader>
        <Link href="/" className="text-xs text-zinc-400 hover:text-sky-300">
          ← Board
        </Link>
      </AppHeader>
      <main className="mx-auto flex max-w-[1800px] flex-col gap-4 px-4 py-4">
        {lane.isPending && (
          <p role="status" className="text-xs text-zinc-500">
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
                <div className="flex items-center gap-2">
                  <StateBadge state={lane.data.state} />
                  <span className="font-mono text-xs text-zinc-500">{lane.data.slug}</span>
                </div>
                <h1 className="mt-1.5 text-lg font-semibold leading-6 text-zinc-50">{lane.data.objective}</h1>
              </div>
              <LaneActions lane={lane.data} />
            </div>
            <Facts lane={lane.data} />
            <div className="flex flex-col gap-2">
              <CheckChips checks={lane.data.checks} />
              <ChecksTable checks={lane.data.checks} />
            </div>
            <div className="grid gap-4 xl:grid-cols-[minmax(0,1fr)_380px]">
              <LaneLog key={laneId} laneId={laneId} />
              <EventsList laneId={laneId} />
            </div>
          </>
        )}
      </main>
    </>
  );
}
