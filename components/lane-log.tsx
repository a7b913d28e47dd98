"use client";
/**
 * The lane page's Output tab: the current attempt's live log (use-lane-log.ts), each process
 * introduced by a divider naming it (worker, each check) so a restart's output is never glued onto
 * the previous attempt's, with search, a stderr filter, "jump to the first failure", "load
 * earlier", a clear notice when output was cut, and a download of the whole log.
 */
import { useMemo, useState } from "react";
import { describeExit } from "@/lib/event-sentence";
import type { LaneAttempts } from "@/lib/review-api";
import type { LogEntry } from "./log-buffer";
import { SearchInput } from "./search-input";
import { useLaneLog } from "./use-lane-log";
import { VirtualLog } from "./virtual-log";
import { SectionHeading } from "./section-heading";

/** Lines of history loaded on open, kept in the browser, read per "load earlier", and read to fill a gap after a reconnect. */
const HISTORY_LINES = 5_000;
const MAX_LINES = 50_000;
const EARLIER_LINES = 5_000;
const RESUME_BUDGET = 20_000;

/** A line that reads like a failure: test runners' and compilers' words for it. */
export const FAILURE_LINE = /^\s*not ok\b|\b(error|errors|failed|failure|fatal|panic|exception|traceback)\b|\bFAIL\b|✗|✖/i;

/** Rows to show: the entries with a divider before each process's first line; stderr only when asked. */
export function logRows(entries: readonly LogEntry[], names: ReadonlyMap<string, string>, stderrOnly: boolean): LogEntry[] {
  const rows: LogEntry[] = [];
  let lastProcess: string | null = null;
  for (const e of entries) {
    if (e.kind !== "marker") {
      if (stderrOnly && e.line.stream !== "stderr") continue;
      if (e.line.processId !== lastProcess) {
        lastProcess = e.line.processId;
        rows.push({ kind: "marker", key: `proc:${e.line.processId}:${e.key}`, ts: e.ts, text: names.get(e.line.processId) ?? `process ${e.line.processId}` });
      }
    }
    rows.push(e);
  }
  return rows;
}

/** Process id → "attempt 2 · check targeted: npm test — exited with code 1". */
function processNames(attempts: LaneAttempts | undefined): Map<string, string> {
  const names = new Map<string, string>();
  for (const a of attempts?.attempts ?? []) {
    const levels = new Map(a.checks.map((c) => [c.processId, c.level]));
    for (const p of a.processes) {
      const who = p.role === "check" ? `check ${levels.get(p.id) ?? ""}`.trim() : p.role;
      const how = p.status === "running" || p.status === "starting" ? "running" : describeExit(p.exitCode, p.signal);
      names.set(p.id, `attempt ${a.attempt} · ${who}: ${p.command.join(" ").slice(0, 80)} — ${how}`);
    }
  }
  return names;
}

const SEARCH_FIELD = "w-44 rounded-md border border-zinc-700 bg-zinc-950 px-2 py-1 text-xs text-zinc-100 placeholder:text-zinc-500 focus-visible:outline-2 focus-visible:outline-sky-500 sm:w-56";
const TOOL = "rounded-md px-2 py-1 text-xs ring-1 ring-inset ring-zinc-700 text-zinc-200 hover:bg-zinc-800 focus-visible:outline-2 focus-visible:outline-sky-500 disabled:opacity-40";

export function LaneLog({ laneId, attempts }: { laneId: string; attempts: LaneAttempts | undefined }) {
  const log = useLaneLog(laneId, { tail: 500, history: HISTORY_LINES, maxEntries: MAX_LINES, resumeBudget: RESUME_BUDGET });
  const [query, setQuery] = useState("");
  const [stderrOnly, setStderrOnly] = useState(false);
  const [matchAt, setMatchAt] = useState(0);
  const [jump, setJump] = useState<{ index: number; nonce: number } | null>(null);
  /** A new query starts again from its first match. */
  const search = (q: string) => {
    setQuery(q);
    setMatchAt(0);
  };
  const names = useMemo(() => processNames(attempts), [attempts]);
  const rows = useMemo(() => logRows(log.entries, names, stderrOnly), [log.entries, names, stderrOnly]);
  const lines = log.entries.reduce((n, e) => n + (e.kind === "line" ? 1 : 0), 0);
  const matches = useMemo(() => {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    const out: number[] = [];
    rows.forEach((r, i) => {
      if (r.kind !== "marker" && r.line.text.toLowerCase().includes(q)) out.push(i);
    });
    return out;
  }, [rows, query]);
  const matchKeys = useMemo(() => new Set(matches.map((i) => rows[i]!.key)), [matches, rows]);
  const current = matches.length ? matches[Math.min(matchAt, matches.length - 1)]! : null;
  const go = (index: number) => setJump({ index, nonce: Math.random() });
  const step = (delta: number) => {
    if (!matches.length) return;
    const next = (matchAt + delta + matches.length) % matches.length;
    setMatchAt(next);
    go(matches[next]!);
  };
  const firstFailure = () => {
    const i = rows.findIndex((r) => r.kind !== "marker" && FAILURE_LINE.test(r.line.text));
    if (i >= 0) go(i);
  };
  const hasFailure = useMemo(() => rows.some((r) => r.kind !== "marker" && FAILURE_LINE.test(r.line.text)), [rows]);

  return (
    <section aria-labelledby="log-heading" className="flex min-w-0 flex-col gap-2">
      <div className="flex flex-wrap items-center gap-2">
        <SectionHeading id="log-heading">Output</SectionHeading>
        <span className="text-xs text-zinc-400" data-testid="log-count" data-lines={lines}>
          {lines.toLocaleString("en")} lines
        </span>
        <span className="inline-flex items-center gap-1 text-xs text-zinc-400">
          <span aria-hidden className="h-3 w-0.5 bg-red-500/70" /> stderr
        </span>
        <a href={`/api/v1/lanes/${encodeURIComponent(laneId)}/logs/download`} download className={`${TOOL} ml-auto`} data-testid="log-download">
          Download whole log
        </a>
      </div>
      <div className="flex flex-wrap items-center gap-2" role="toolbar" aria-label="Log tools">
        <form
          role="search"
          className="flex items-center gap-1"
          onSubmit={(e) => {
            e.preventDefault();
            step(1);
          }}
        >
          <SearchInput label="Search the output" testId="log-search" placeholder="Search output" value={query} onChange={search} className={SEARCH_FIELD} />
          <button type="button" className={TOOL} disabled={!matches.length} onClick={() => step(-1)} aria-label="Previous match">
            ↑
          </button>
          <button type="submit" className={TOOL} disabled={!matches.length} aria-label="Next match">
            ↓
          </button>
          {query.trim() && (
            <span className="text-xs text-zinc-300" data-testid="log-matches" aria-live="polite">
              {matches.length ? `${Math.min(matchAt, matches.length - 1) + 1} of ${matches.length.toLocaleString("en")}` : "no match"}
            </span>
          )}
        </form>
        <label className="flex items-center gap-1.5 text-xs text-zinc-200">
          <input type="checkbox" checked={stderrOnly} onChange={(e) => setStderrOnly(e.target.checked)} className="accent-sky-500" data-testid="log-stderr-only" />
          stderr only
        </label>
        <button type="button" className={TOOL} onClick={firstFailure} disabled={!hasFailure} data-testid="log-first-failure">
          Jump to first failure
        </button>
        <button type="button" className={TOOL} onClick={() => log.loadEarlier(EARLIER_LINES)} disabled={!log.truncated || log.busy} data-testid="log-load-earlier">
          {log.busy ? "Loading…" : `Load ${EARLIER_LINES.toLocaleString("en")} earlier lines`}
        </button>
      </div>
      {(log.truncated || log.trimmed > 0) && (
        <p data-testid="log-truncated" role="note" className="rounded-md bg-amber-500/10 px-2 py-1 text-xs text-amber-200 ring-1 ring-inset ring-amber-500/30">
          {log.trimmed > 0
            ? `Output was cut: the oldest ${log.trimmed.toLocaleString("en")} lines were dropped from this view to keep it fast. `
            : "Output was cut: only the newest lines are shown. "}
          Load earlier lines above, or download the whole log.
        </p>
      )}
      {log.error && (
        <p role="alert" className="text-xs text-red-300">
          {log.error}
        </p>
      )}
      <VirtualLog
        entries={rows}
        label="Lane output"
        emptyText={log.loaded ? "No output yet." : "Loading output…"}
        matches={matchKeys}
        current={current === null ? null : rows[current]!.key}
        jump={jump}
        onLoadGap={log.loadGap}
      />
    </section>
  );
}
