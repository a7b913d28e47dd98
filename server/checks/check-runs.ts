/**
 * Acceptance check runs of a lane, kept as JSON on the Lane row (`checks`), and their roll-up
 * into red/green per green level (a level is green only if every check of it passed in the
 * latest round that ran it). A round is one pass over the packet's checks; a merge-forward or a
 * recovery reruns them as a new round, so an earlier red does not outlive its fix.
 */
import type { CheckResult, CheckRunView } from "@/lib/api";
import { redactDeep } from "@/lib/redact";
import type { GreenLevel } from "@/lib/task-packet";

export type CheckRun = CheckRunView;

export function parseCheckRuns(json: string): CheckRun[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? (value as CheckRun[]) : [];
  } catch {
    return [];
  }
}

/**
 * The runs as a view shows them (the lane view, the checks report, merge readiness): a token or
 * key in a check's arguments, its failure reason, summary or evidence is redacted (lib/redact.ts).
 * Decisions read {@link parseCheckRuns}; this is for what leaves the server.
 */
export function shownCheckRuns(json: string): CheckRun[] {
  return redactDeep(parseCheckRuns(json));
}

/** The round of the newest run (0 for none). */
export function currentRound(runs: readonly CheckRun[]): number {
  return runs.reduce((max, r) => Math.max(max, r.round ?? 0), 0);
}

/**
 * Roll runs up per level over the latest round that ran that level: red beats running beats
 * green; the command shown is the deciding one, with its test counts and, when red, its class.
 */
export function checksByLevel(runs: readonly CheckRun[]): Record<string, CheckResult> {
  const rank = { green: 0, running: 1, red: 2 } as const;
  const latest = new Map<GreenLevel, number>();
  for (const run of runs) latest.set(run.level, Math.max(latest.get(run.level) ?? 0, run.round ?? 0));
  const out: Record<string, CheckResult> = {};
  for (const run of runs) {
    if ((run.round ?? 0) !== latest.get(run.level)) continue;
    const prev = out[run.level];
    if (prev && rank[prev.status] > rank[run.status]) continue;
    out[run.level] = {
      level: run.level,
      status: run.status,
      command: run.argv,
      exitCode: run.exitCode,
      durationMs: run.durationMs,
      at: run.endedAt ?? run.startedAt,
      tests: run.tests ?? null,
      failureClass: run.failure?.failureClass ?? null,
      summary: run.failure?.summary ?? null,
    };
  }
  return out;
}

/** Levels at which every check of the latest round is green (for policy facts and merge readiness). */
export function greenLevels(runs: readonly CheckRun[]): GreenLevel[] {
  return Object.values(checksByLevel(runs))
    .filter((c) => c.status === "green")
    .map((c) => c.level);
}
