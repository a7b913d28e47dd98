/**
 * The kill sequence for everything a supervised process started (its process group, its cgroup:
 * see process-scope.ts): SIGTERM, SIGKILL after the grace period if any member is left, resolved
 * when no member remains.
 *
 * Why SIGTERM is repeated for a young process: a SIGTERM that lands while the `sh` wrapper is
 * between fork and exec of the command is caught by the wrapper's trap in the forked child and
 * lost with the exec (reproduced with dash: a kill right after start then always waited for the
 * full grace period). So during the first {@link TERM_REPEAT_WINDOW_MS} after the start, SIGTERM is
 * re-sent every 50 ms until the group is gone; an older process gets exactly one SIGTERM.
 *
 * {@link killTracked} is a kill the supervisor was asked for: it marks the process's record and
 * row so its end is recorded as `killed`.
 */
import type { Db } from "../store/db";
import type { Tracked } from "./tracked";
import { cgroupOomKills, removeCgroup, scopeMembers, signalScope, type ProcessScope, type ScopeWatcher } from "./process-scope";

/** How long after a process's start SIGTERM is repeated during a kill (ms). */
export const TERM_REPEAT_WINDOW_MS = 2000;
const RESEND_EVERY_MS = 50;

export interface KillGroupOptions {
  /** SIGTERM → SIGKILL grace period (ms). */
  graceMs: number;
  /** When the process started (ms since epoch). */
  startedAtMs: number;
  groups: ScopeWatcher;
  /** Called after each signal actually delivered to the group. */
  onSignal?: (signal: "SIGTERM" | "SIGKILL") => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)).unref());

/**
 * Kill every member of `scope`. Resolves when none is left. Never throws for a vanished member.
 * Signals after the first are sent only while the watcher's last scan (≤ 20 ms old) still saw
 * members, so a group id freed meanwhile is not signalled (Linux hands out pids in sequence, so
 * one is not reused within milliseconds).
 */
export async function killScope(scope: ProcessScope, o: KillGroupOptions): Promise<void> {
  const send = (sig: "SIGTERM" | "SIGKILL") => {
    if (signalScope(scope, sig)) o.onSignal?.(sig);
  };
  send("SIGTERM");
  let isGone = false;
  const gone = o.groups.whenGone(scope).then(() => (isGone = true));
  const deadline = Date.now() + o.graceMs;
  while (!isGone && Date.now() < Math.min(deadline, o.startedAtMs + TERM_REPEAT_WINDOW_MS)) {
    await Promise.race([gone, sleep(RESEND_EVERY_MS)]);
    if (!isGone) send("SIGTERM");
  }
  if (!isGone) await Promise.race([gone, sleep(deadline - Date.now())]);
  if (!isGone) send("SIGKILL");
  await gone;
}

/**
 * A supervised process's wrapper has ended (or is gone): stop whatever it started that still runs
 * (a child left in the background, the command itself when the wrapper was killed, an agent
 * tool's child) with the kill sequence, so nothing outlives its lane and their output is in the
 * logs before the final read; then remove the process's cgroup. Never throws (problems go to `warn`).
 * @returns how many processes were still running, and the cgroup's OOM kill count (null: unknown)
 */
export async function stopLeftovers(
  scope: ProcessScope,
  o: { graceMs: number; watcher: ScopeWatcher; warn: (message: string) => void },
): Promise<{ leftovers: number; cgroupOomKills: number | null }> {
  const members = scopeMembers(scope);
  if (members.length > 0) {
    await killScope(scope, { graceMs: o.graceMs, startedAtMs: 0, groups: o.watcher }).catch((err: unknown) =>
      o.warn(`cannot stop what process ${scope.processId} left running (${members.join(", ")}): ${(err as Error).message}`),
    );
  }
  const oomKills = scope.cgroup ? cgroupOomKills(scope.cgroup) : null;
  if (scope.cgroup && !removeCgroup(scope.cgroup)) o.warn(`cannot remove the cgroup ${scope.cgroup} of process ${scope.processId}`);
  return { leftovers: members.length, cgroupOomKills: oomKills };
}

/**
 * Kill a followed process on request, once its pid is recorded: note the request on its row and
 * on the record (`killRequested`, and `sigkillSent` once SIGKILL was delivered), then run the kill
 * sequence. Resolves when no member is left; the exit is not recorded here.
 * @returns false when there was nothing to signal (no process group known, or already ending)
 */
export async function killTracked(t: Tracked, o: { db: Db; graceMs: number; groups: ScopeWatcher }): Promise<boolean> {
  await t.ready.catch(() => undefined);
  if (t.pgid === null || t.ending) return false;
  // Recorded alongside the signal, not before it: a kill's latency must not wait for the
  // database queue. A recover() after a crash reads it to report the end as `killed`.
  void o.db.process.update({ where: { id: t.id }, data: { killRequestedAt: new Date() } }).catch(() => undefined);
  await killScope(t.scope, { graceMs: o.graceMs, startedAtMs: t.startedAtMs, groups: o.groups, onSignal: (sig) => {
    t.killRequested = true;
    if (sig === "SIGKILL") t.sigkillSent = true;
  } });
  return true;
}

/**
 * What is left of a kill's grace period that began at `since` (ms, never negative).
 * @param graceMs the whole grace period (ms)
 */
export function remainingGraceMs(since: Date, graceMs: number, now = Date.now()): number {
  return Math.max(0, since.getTime() + graceMs - now);
}
