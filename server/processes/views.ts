/**
 * Row → API shapes for processes, and how an ended process's status is decided. The row's `env`
 * is redacted when stored (lib/redact.ts `redactEnv`); the view redacts the command and, again,
 * the env as shown, so a secret known or recognised only now is not shown either.
 */
import { z } from "zod";
import type { ProcessView } from "@/lib/api";
import type { ProcessStatus } from "@/lib/lane-state";
import { redactEnv, redactText } from "@/lib/redact";
import type { ProcessExit } from "../events/event-bus";
import type { RecordedExit } from "./wrapper";
import type { Process } from "../store/generated/client";
import { parseJsonColumn } from "../store/json-column";

export type ProcessRow = Process;

/** Statuses of a process that has not ended (as far as the database knows). */
export const LIVE_STATUSES: readonly string[] = ["starting", "running"];

const CommandSchema = z.array(z.string());
const EnvSchema = z.record(z.string(), z.string());

export function toProcessView(row: ProcessRow): ProcessView {
  return {
    id: row.id,
    laneId: row.laneId,
    role: row.role,
    command: (parseJsonColumn(row.command, CommandSchema) ?? []).map(redactText),
    cwd: row.cwd,
    env: redactEnv(parseJsonColumn(row.env, EnvSchema) ?? {}),
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
  return parseJsonColumn(command, CommandSchema)?.[0] ?? null;
}
