/**
 * How a process's end is worked out and told, once it has ended: wait for the wrapper (our
 * child), stop what the command left behind (kill-group.ts), read the logs to their end (partial
 * last lines included), then decide the status from the exit file, the kill we issued and the OS
 * (views.ts `decideExit`), with the evidence of a kernel OOM kill (oom.ts). Recording it on the
 * row exactly once is exit-recorder.ts's; {@link exitEvent} is the event announced after that.
 */
import type { NewLaneEvent } from "@/lib/lane-events";
import type { ProcessExit } from "../events/event-bus";
import { ExitRecorder, type PendingExit } from "./exit-recorder";
import { stopLeftovers } from "./kill-group";
import { oomEvidence } from "./oom";
import type { ScopeWatcher } from "./process-scope";
import type { LogTailer } from "./tailer";
import type { Tracked } from "./tracked";
import { decideExit } from "./views";
import { readExitFile } from "./wrapper";

export interface SettleOptions {
  /** SIGTERM → SIGKILL grace period for what the command left running (ms). */
  graceMs: number;
  scopes: ScopeWatcher;
  tailer: LogTailer;
  warn: (message: string) => void;
}

/**
 * The exit of a process that has ended, with when it ended (the exit file's time, else now).
 * Its logs are read to their end; the process is not yet recorded or forgotten.
 */
export async function settleExit(t: Tracked, o: SettleOptions): Promise<{ exit: ProcessExit; endedAt: Date }> {
  await t.ready.catch(() => undefined);
  const wrapper = t.wrapperDone ? await t.wrapperDone : null;
  const { leftovers, cgroupOomKills } = await stopLeftovers(t.scope, { graceMs: o.graceMs, watcher: o.scopes, warn: o.warn });
  await o.tailer.finish(t.log);
  const recorded = readExitFile(t.log.paths.exit);
  const decided = decideExit(recorded, wrapper, t);
  // Our own child died without writing its exit file: the wrapper itself was killed.
  const wrapperDied = !recorded && wrapper?.signal != null && !t.killRequested;
  const oom = decided.signal === "SIGKILL" && !t.killRequested
    ? oomEvidence({ cgroupOomKills, fromMs: t.startedAtMs, toMs: Date.now(), pids: t.pid === null ? [] : [t.pid], program: t.program })
    : null;
  const exit: ProcessExit = {
    processId: t.id, laneId: t.laneId, role: t.role, ...decided,
    ...(wrapperDied ? { wrapperDied } : {}), ...(leftovers > 0 ? { leftovers } : {}), ...(oom ? { oomKilled: oom } : {}),
  };
  // The wrapper could not write its exit file (a full disk) but the OS told us: keep it there too.
  if (!recorded && wrapper && !wrapperDied && exit.status === "exited") ExitRecorder.keepExitFile(t.log.paths.exit, exit);
  return { exit, endedAt: recorded?.at ?? new Date() };
}

/** The event that announces a recorded exit: `process.lost` (with why) or `process.exited`. */
export function exitEvent({ exit, lostReason }: PendingExit): NewLaneEvent {
  return exit.status === "lost"
    ? { type: "process.lost", laneId: exit.laneId, payload: { processId: exit.processId, reason: lostReason ?? "unknown", ...(exit.leftovers ? { leftovers: exit.leftovers } : {}) } }
    : { type: "process.exited", laneId: exit.laneId, payload: {
      processId: exit.processId, role: exit.role, exitCode: exit.exitCode, signal: exit.signal,
      ...(exit.wrapperDied ? { wrapperDied: true } : {}), ...(exit.leftovers ? { leftovers: exit.leftovers } : {}), ...(exit.oomKilled ? { oomKilled: exit.oomKilled } : {}),
    } };
}
