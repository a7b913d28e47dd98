"use client";
/**
 * Small presentational pieces shared by the lane card and the lane page: the state badge,
 * per-level check chips, ahead/behind, the worktree path, the last event and the exit code.
 * Each carries the data-testid the e2e tests use.
 */
import type { CheckResult, CheckStatus, LaneView } from "@/lib/api";
import { exitSummaryOf, STATUS_LABEL, statusOf, type BadgeStatus } from "@/lib/lane-attention";
import { LIVE_LANE_STATES, type LaneState } from "@/lib/lane-state";
import { GREEN_LEVELS } from "@/lib/task-packet";
import { CopyButton } from "./copy-button";
import { formatAbsolute, formatDuration, formatRelative, useHydrated, useNow } from "./time";

const STATE_STYLE: Record<LaneState, string> = {
  queued: "bg-zinc-500/15 text-zinc-300 ring-zinc-500/30",
  starting: "bg-sky-500/15 text-sky-300 ring-sky-500/30",
  running: "bg-blue-500/15 text-blue-300 ring-blue-500/40",
  checking: "bg-amber-500/15 text-amber-300 ring-amber-500/30",
  finished: "bg-emerald-500/15 text-emerald-300 ring-emerald-500/30",
  failed: "bg-red-500/15 text-red-300 ring-red-500/40",
  killed: "bg-orange-500/15 text-orange-300 ring-orange-500/30",
  lost: "bg-fuchsia-500/15 text-fuchsia-300 ring-fuchsia-500/30",
};


const WAIT_STYLE = "bg-amber-500/20 text-amber-200 ring-amber-500/50";

/**
 * The lane's badge: its state, unless its worker waits for a person (trust, a prompt, a dialog),
 * which is what the badge says then (lib/lane-attention.ts statusOf). `data-state` stays the lane state.
 */
export function LaneStatusBadge({ lane }: { lane: LaneView }) {
  const status: BadgeStatus = statusOf(lane);
  const waiting = status !== lane.state;
  return (
    <span
      data-testid="lane-state"
      data-state={lane.state}
      data-status={status}
      className={`inline-flex shrink-0 items-center gap-1.5 rounded-full px-2 py-0.5 text-[11px] font-medium uppercase tracking-wide ring-1 ring-inset ${waiting ? WAIT_STYLE : STATE_STYLE[lane.state]}`}
    >
      {/* Solid while live, dimmed once ended; not pulsing: with 100 lanes printing, pulsing dots
          (each an animated layer composited on every frame) made scrolling the board 1.7x slower. */}
      <span aria-hidden className={`size-1.5 rounded-full bg-current ${LIVE_LANE_STATES.has(lane.state) && !waiting ? "" : "opacity-70"}`} />
      {STATUS_LABEL[status]}
    </span>
  );
}

const EXIT_TONE = { ok: "text-emerald-300", bad: "text-red-300", neutral: "text-zinc-300" } as const;

/** Which process exited how: `worker exit 0 · targeted check exit 1` (never a bare green 0 on a red lane). */
export function ExitSummary({ lane }: { lane: LaneView }) {
  const parts = exitSummaryOf(lane);
  if (parts.length === 0) return <span data-testid="exit-summary" className="text-xs text-zinc-500">no exit yet</span>;
  return (
    <span data-testid="exit-summary" className="inline-flex min-w-0 flex-wrap gap-x-2 text-xs text-zinc-400">
      {parts.map((p) => (
        <span key={p.who} data-testid="exit-part" data-tone={p.tone}>
          {p.who} exit <span className={`font-mono ${EXIT_TONE[p.tone]}`}>{p.code ?? "—"}</span>
        </span>
      ))}
    </span>
  );
}

export function StateBadge({ state }: { state: LaneState }) {
  return (
    <span
      data-testid="lane-state"
      data-state={state}
      className={`inline-flex shrink-0 items-center gap-1.5 rounded-full px-2 py-0.5 text-[11px] font-medium uppercase tracking-wide ring-1 ring-inset ${STATE_STYLE[state]}`}
    >
      <span aria-hidden className={`size-1.5 rounded-full bg-current ${LIVE_LANE_STATES.has(state) ? "" : "opacity-70"}`} />
      {state}
    </span>
  );
}

const CHECK_STYLE: Record<CheckStatus, { cls: string; icon: string; word: string }> = {
  green: { cls: "bg-emerald-500/10 text-emerald-300 ring-emerald-500/30", icon: "✓", word: "green" },
  red: { cls: "bg-red-500/10 text-red-300 ring-red-500/40", icon: "✗", word: "red" },
  running: { cls: "bg-amber-500/10 text-amber-300 ring-amber-500/30", icon: "…", word: "running" },
};

function checkTitle(c: CheckResult): string {
  const parts = [`${c.level}: ${c.status}`, `$ ${c.command.join(" ")}`];
  if (c.exitCode !== null) parts.push(`exit ${c.exitCode}`);
  if (c.durationMs !== null) parts.push(formatDuration(c.durationMs));
  parts.push(formatAbsolute(c.at));
  return parts.join(" · ");
}

/** One chip per check level that has run, in level order; "no checks yet" otherwise. */
export function CheckChips({ checks }: { checks: LaneView["checks"] }) {
  const hydrated = useHydrated();
  const known = GREEN_LEVELS.filter((l) => checks[l]);
  const other = Object.keys(checks).filter((l) => !(GREEN_LEVELS as readonly string[]).includes(l));
  const levels = [...known, ...other];
  if (levels.length === 0) return <span className="text-xs text-zinc-500">no checks yet</span>;
  return (
    <ul className="flex flex-wrap gap-1" aria-label="Checks">
      {levels.map((level) => {
        const c = checks[level]!;
        const s = CHECK_STYLE[c.status];
        return (
          <li
            key={level}
            data-testid={`check-${level}`}
            data-status={c.status}
            title={hydrated ? checkTitle(c) : undefined}
            className={`inline-flex items-center gap-1 rounded px-1.5 py-0.5 font-mono text-[11px] ring-1 ring-inset ${s.cls}`}
          >
            <span aria-hidden>{s.icon}</span>
            {level}
            <span className="sr-only"> {s.word}</span>
          </li>
        );
      })}
    </ul>
  );
}

/** `↑2 ↓1` against the base branch, "behind main" highlighted when behind > 0. */
export function AheadBehind({ lane, baseName }: { lane: LaneView; baseName: string }) {
  if (lane.ahead === null || lane.behind === null) {
    return (
      <span data-testid="ahead-behind" className="font-mono text-xs text-zinc-500" title="Freshness not measured yet">
        ↑? ↓?
      </span>
    );
  }
  const behind = lane.behind > 0;
  return (
    <span
      data-testid="ahead-behind"
      data-ahead={lane.ahead}
      data-behind={lane.behind}
      title={`${lane.ahead} commit(s) ahead of and ${lane.behind} behind ${baseName}`}
      className="inline-flex items-center gap-1.5 font-mono text-xs"
    >
      <span className="text-zinc-300">↑{lane.ahead}</span>
      <span className={behind ? "text-amber-300" : "text-zinc-500"}>↓{lane.behind}</span>
      {behind && (
        <span className="rounded bg-amber-500/15 px-1 py-px font-sans text-[10px] font-medium uppercase tracking-wide text-amber-300 ring-1 ring-inset ring-amber-500/30">
          behind {baseName}
        </span>
      )}
    </span>
  );
}

/** Monospace, truncated; the full path is in the title, and a copy button beside it. */
export function WorktreePath({ path }: { path: string }) {
  return (
    <span className="flex min-w-0 items-center gap-1.5">
      <span className="min-w-0 truncate font-mono text-xs text-zinc-400" title={path} dir="ltr">
        {path}
      </span>
      <CopyButton value={path} label="worktree path" />
    </span>
  );
}

export function LastEvent({ event }: { event: LaneView["lastEvent"] }) {
  const now = useNow();
  const hydrated = useHydrated();
  if (!event) return <span className="text-xs text-zinc-500">no events</span>;
  return (
    <span className="inline-flex min-w-0 items-baseline gap-1.5 text-xs" title={hydrated ? `#${event.id} at ${formatAbsolute(event.at)}` : undefined}>
      <span className="truncate font-mono text-zinc-300">{event.type}</span>
      <time dateTime={event.at} className="shrink-0 text-zinc-500">
        {hydrated && formatRelative(event.at, now)}
      </time>
    </span>
  );
}

export function ExitCode({ code }: { code: number | null }) {
  if (code === null) return <span className="font-mono text-xs text-zinc-500">—</span>;
  return <span className={`font-mono text-xs ${code === 0 ? "text-emerald-300" : "text-red-300"}`}>{code}</span>;
}
