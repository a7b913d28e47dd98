/**
 * Acceptance check runs of a lane, kept as JSON on the Lane row (`checks`), and their roll-up
 * into red/green per green level (a level is green only if every check of it passed).
 */
import type { CheckResult } from "@/lib/api";
import type { GreenLevel } from "@/lib/task-packet";

export interface CheckRun {
  index: number;
  level: GreenLevel;
  argv: string[];
  status: "running" | "green" | "red";
  processId: string | null;
  exitCode: number | null;
  durationMs: number | null;
  startedAt: string;
  endedAt: string | null;
}

export function parseCheckRuns(json: string): CheckRun[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? (value as CheckRun[]) : [];
  } catch {
    return [];
  }
}

/** Roll runs up per level: red beats running beats green; the command shown is the deciding one. */
export function checksByLevel(runs: readonly CheckRun[]): Record<string, CheckResult> {
  const rank = { green: 0, running: 1, red: 2 } as const;
  const out: Record<string, CheckResult> = {};
  for (const run of runs) {
    const prev = out[run.level];
    if (prev && rank[prev.status] > rank[run.status]) continue;
    out[run.level] = {
      level: run.level,
      status: run.status,
      command: run.argv,
      exitCode: run.exitCode,
      durationMs: run.durationMs,
      at: run.endedAt ?? run.startedAt,
    };
  }
  return out;
}
