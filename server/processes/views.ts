/**
 * Row → API shapes for processes, and how an ended process's status is decided. The row's `env`
 * is already redacted (see wrapper.ts `redactEnv`), so a view never carries a secret.
 */
import type { ProcessView } from "@/lib/api";
import type { ProcessStatus } from "@/lib/lane-state";
import type { ProcessExit } from "../events/event-bus";
import type { RecordedExit } from "./wrapper";
import type { Process } from "../store/generated/client";

export type ProcessRow = Process;

/** Statuses of a process that has not ended (as far as the database knows). */
export const LIVE_STATUSES: readonly string[] = ["starting", "running"];

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function toProcessView(row: ProcessRow): ProcessView {
  return {
    id: row.id,
    laneId: row.laneId,
    role: row.role,
    command: parseJson<string[]>(row.command, []),
    cwd: row.cwd,
    env: parseJson<Record<string, string>>(row.env, {}),
    pid: row.pid,
    pgid: row.pgid,
    status: row.status as ProcessStatus,
    exitCode: row.exitCode,
    signal: row.signal,
    truncatedBytes: row.truncatedBytes,
    startedAt: row.startedAt?.toISOString() ?? null,
    endedAt: row.endedAt?.toISOString() ?? null,
  };
}

/** The exit of an ended process as recorded in its row. */
export function exitFromRow(row: ProcessRow): ProcessExit {
  return {
    processId: row.id,
    laneId: row.laneId,
    role: row.role,
    status: row.status as ProcessExit["status"],
    exitCode: row.exitCode,
    signal: row.signal,
  };
}

/**
 * Status of an ended process. The exit file (`recorded`) wins; without one, a kill we issued is
 * `killed`, our own child's status comes from the OS (`wrapper`), and anything else is `lost`.
 */
export function decideExit(
  recorded: RecordedExit | null,
  wrapper: { exitCode: number | null; signal: string | null } | null,
  kill: { killRequested: boolean; sigkillSent: boolean },
): Pick<ProcessExit, "status" | "exitCode" | "signal"> {
  if (recorded) return { status: kill.killRequested ? "killed" : "exited", exitCode: recorded.exitCode, signal: recorded.signal };
  if (kill.killRequested) return { status: "killed", exitCode: null, signal: kill.sigkillSent ? "SIGKILL" : (wrapper?.signal ?? "SIGTERM") };
  if (wrapper) return { status: "exited", exitCode: wrapper.exitCode, signal: wrapper.signal };
  return { status: "lost", exitCode: null, signal: null };
}

/** argv[0] of a row's stored command (JSON), or null. */
export function parseProgram(command: string): string | null {
  const argv = parseJson<unknown>(command, null);
  return Array.isArray(argv) && typeof argv[0] === "string" ? argv[0] : null;
}
