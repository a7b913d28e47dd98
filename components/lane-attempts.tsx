"use client";
/**
 * Every attempt of a lane, newest first: when it ran, how its worker and each check ended, its
 * usage, and — on request — its own output (read back from its processes' log files) and its own
 * events. The current attempt's live output is on the Output tab.
 */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { describeExit, WORKER_STATE_WORDS } from "@/lib/event-sentence";
import type { Attempt, LaneAttempts } from "@/lib/review-api";
import { api, errorMessage } from "./api-client";
import { LaneEventsList } from "./lane-events-list";
import { UsageText } from "./lane-status";
import type { LogEntry } from "./log-buffer";
import { logLineKey } from "./log-buffer";
import { formatAbsolute } from "./time";
import { VirtualLog } from "./virtual-log";
import { SectionHeading } from "./section-heading";

/** Lines read back per process of a past attempt. */
const PAST_LINES = 20_000;

/** A past attempt's output: each process's log in turn, with a divider naming it. */
function AttemptOutput({ laneId, attempt }: { laneId: string; attempt: Attempt }) {
  const out = useQuery({
    queryKey: ["lanes", "attempt-output", laneId, attempt.attempt, attempt.processes.map((p) => p.id).join(",")],
    queryFn: async (): Promise<{ entries: LogEntry[]; truncated: boolean }> => {
      const entries: LogEntry[] = [];
      let truncated = false;
      for (const p of attempt.processes) {
        const res = await api.laneLogs(laneId, PAST_LINES, p.id);
        truncated ||= res.truncated;
        const name = p.role === "check" ? `check: ${p.command.join(" ")}` : `${p.role}: ${p.command.join(" ")}`;
        entries.push({ kind: "marker", key: `proc:${p.id}`, ts: res.lines[0]?.ts ?? 0, text: `${name} — ${describeExit(p.exitCode, p.signal)}` });
        for (const line of res.lines) entries.push({ kind: "line", key: logLineKey(line), ts: line.ts, line });
      }
      return { entries, truncated };
    },
    staleTime: Infinity,
  });
  if (out.isError) return <p role="alert" className="text-xs text-red-300">{errorMessage(out.error)}</p>;
  return (
    <div className="flex flex-col gap-1">
      {out.data?.truncated && <p className="text-xs text-amber-300">Older output of this attempt was cut (only the last {PAST_LINES.toLocaleString("en")} lines per process are shown).</p>}
      <VirtualLog entries={out.data?.entries ?? []} label={`Output of attempt ${attempt.attempt}`} emptyText={out.isPending ? "Loading output…" : "No output."} />
    </div>
  );
}

function AttemptCard({ laneId, attempt, current }: { laneId: string; attempt: Attempt; current: boolean }) {
  const [show, setShow] = useState<"none" | "output" | "events">("none");
  const levelOf = new Map(attempt.checks.map((c) => [c.processId, c.level]));
  return (
    <li className="rounded-lg border border-zinc-800 bg-zinc-900/40 p-3" data-testid="attempt" data-attempt={attempt.attempt}>
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h3 className="text-sm font-semibold text-zinc-100">
          Attempt {attempt.attempt}
          {current && <span className="ml-1 text-xs font-normal text-sky-300">(current)</span>}
        </h3>
        <span className="text-xs text-zinc-400">
          {formatAbsolute(attempt.startedAt)}
          {attempt.endedAt && ` → ${formatAbsolute(attempt.endedAt).slice(11)}`}
        </span>
        {attempt.workerState && <span className="text-xs text-zinc-300">worker {WORKER_STATE_WORDS[attempt.workerState]}</span>}
        <span className="text-xs text-zinc-300">
          usage: <UsageText usage={attempt.usage} />
        </span>
      </div>
      <ul className="mt-2 flex flex-col gap-0.5 text-xs">
        {attempt.processes.map((p) => {
          const ok = p.exitCode === 0 && !p.signal;
          const live = p.status === "running" || p.status === "starting";
          return (
            <li key={p.id} data-testid="attempt-process" data-role={p.role} data-exit-code={p.exitCode ?? ""} className="flex min-w-0 flex-col sm:flex-row sm:gap-2">
              {/* On a phone the command goes under the sentence: beside it, it squeezed the sentence to a word a line. */}
              <span className={`sm:shrink-0 ${live ? "text-sky-300" : ok ? "text-emerald-300" : "text-red-300"}`}>
                {p.role === "check" ? `check ${levelOf.get(p.id) ?? ""}` : p.role} {live ? "is running" : describeExit(p.exitCode, p.signal)}
              </span>
              <span className="min-w-0 truncate font-mono text-zinc-400" title={p.command.join(" ")}>
                {p.command.join(" ")}
              </span>
            </li>
          );
        })}
        {attempt.processes.length === 0 && <li className="text-zinc-400">no process</li>}
      </ul>
      <div className="mt-2 flex gap-3 text-xs">
        <button type="button" data-testid="attempt-output-toggle" aria-expanded={show === "output"} onClick={() => setShow((s) => (s === "output" ? "none" : "output"))} className="text-sky-300 hover:underline">
          {show === "output" ? "Hide output" : "Show output"}
        </button>
        <button type="button" aria-expanded={show === "events"} onClick={() => setShow((s) => (s === "events" ? "none" : "events"))} className="text-sky-300 hover:underline">
          {show === "events" ? "Hide events" : "Show events"}
        </button>
      </div>
      {show === "output" && (
        <div className="mt-2">
          <AttemptOutput laneId={laneId} attempt={attempt} />
        </div>
      )}
      {show === "events" && (
        <div className="mt-2">
          <LaneEventsList laneId={laneId} range={{ from: attempt.firstEventId, until: attempt.nextEventId }} />
        </div>
      )}
    </li>
  );
}

export function LaneAttemptsView({ laneId, attempts }: { laneId: string; attempts: LaneAttempts | undefined }) {
  if (!attempts) return <p className="text-xs text-zinc-400">Loading attempts…</p>;
  const list = attempts.attempts.slice().reverse();
  return (
    <section aria-labelledby="attempts-heading" className="flex flex-col gap-2" data-testid="lane-attempts">
      <SectionHeading id="attempts-heading">Attempts ({list.length})</SectionHeading>
      <ol className="flex flex-col gap-2">
        {list.map((a, i) => (
          <AttemptCard key={a.attempt} laneId={laneId} attempt={a} current={i === 0} />
        ))}
      </ol>
    </section>
  );
}
