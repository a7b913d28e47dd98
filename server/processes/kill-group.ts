/**
 * The kill sequence for one process group: SIGTERM, SIGKILL after the grace period if any member
 * is left, resolved when no member remains.
 *
 * Why SIGTERM is repeated for a young process: a SIGTERM that lands while the `sh` wrapper is
 * between fork and exec of the command is caught by the wrapper's trap in the forked child and
 * lost with the exec (reproduced with dash: a kill right after start then always waited for the
 * full grace period). So during the first {@link STARTUP_WINDOW_MS} after the start, SIGTERM is
 * re-sent every 50 ms until the group is gone; an older process gets exactly one SIGTERM.
 */
import { signalGroup, type GroupWatcher } from "./procfs";

/** How long after a process's start SIGTERM is repeated during a kill (ms). */
export const STARTUP_WINDOW_MS = 2000;
const RESEND_EVERY_MS = 50;

export interface KillGroupOptions {
  /** SIGTERM → SIGKILL grace period (ms). */
  graceMs: number;
  /** When the process started (ms since epoch). */
  startedAtMs: number;
  groups: GroupWatcher;
  /** Called after each signal actually delivered to the group. */
  onSignal?: (signal: "SIGTERM" | "SIGKILL") => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)).unref());

/**
 * Kill every process of group `pgid`. Resolves when none is left. Never throws for a vanished
 * group. Signals after the first are sent only while the watcher's last scan (≤ 20 ms old) still
 * saw members, so a group id freed meanwhile is not signalled (Linux hands out pids in sequence,
 * so one is not reused within milliseconds).
 */
export async function killGroup(pgid: number, o: KillGroupOptions): Promise<void> {
  const send = (sig: "SIGTERM" | "SIGKILL") => {
    if (signalGroup(pgid, sig)) o.onSignal?.(sig);
  };
  send("SIGTERM");
  let isGone = false;
  const gone = o.groups.whenGone(pgid).then(() => (isGone = true));
  const deadline = Date.now() + o.graceMs;
  while (!isGone && Date.now() < Math.min(deadline, o.startedAtMs + STARTUP_WINDOW_MS)) {
    await Promise.race([gone, sleep(RESEND_EVERY_MS)]);
    if (!isGone) send("SIGTERM");
  }
  if (!isGone) await Promise.race([gone, sleep(deadline - Date.now())]);
  if (!isGone) send("SIGKILL");
  await gone;
}
