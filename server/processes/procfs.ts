/**
 * Linux `/proc` helpers: process identity (pid + start time, so a reused pid is never mistaken
 * for ours) and process-group membership (see process-scope.ts for finding everything a
 * supervised process started).
 *
 * Format: proc(5), `/proc/<pid>/stat`: `pid (comm) state ppid pgrp session … starttime(22) …`;
 * `comm` may contain spaces and parentheses, so fields are counted after the last `)`.
 */
import { readFileSync, readdirSync } from "node:fs";
import { constants } from "node:os";

export interface ProcStat {
  pid: number;
  /** One letter: R, S, D, Z (zombie), T, … */
  state: string;
  ppid: number;
  pgid: number;
  /** Field 22: start time in clock ticks since boot, as a decimal string. */
  startTime: string;
}

/** Parse `/proc/<pid>/stat`; null when the process does not exist (or cannot be read). */
export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  return parseProcStat(text);
}

/** Parse the text of a stat file; null if it is malformed. */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  const pid = Number.parseInt(text, 10);
  // After ") ": field 3 (state) is index 0, so field N is index N - 3.
  const f = text.slice(close + 2).split(" ");
  if (f.length < 20) return null;
  return { pid, state: f[0]!, ppid: Number(f[1]), pgid: Number(f[2]), startTime: f[19]! };
}

/** True when `pid` runs, is not a zombie, and started at `startTime` (so it is the same process). */
export function isSameProcess(pid: number, startTime: string): boolean {
  const st = readProcStat(pid);
  return st !== null && st.state !== "Z" && st.startTime === startTime;
}

/** Argument vector of a process from `/proc/<pid>/cmdline`; null if it is gone. */
export function readCmdline(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return raw.split("\0").slice(0, -1);
  } catch {
    return null;
  }
}

/** Pids of the live (non-zombie) members of every process group in `pgids` (null: of all groups), keyed by pgid. */
export function scanGroups(pgids: ReadonlySet<number> | null): Map<number, number[]> {
  const found = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return found;
  }
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue; // not a pid directory
    const st = readProcStat(Number(name));
    if (!st || st.state === "Z" || (pgids !== null && !pgids.has(st.pgid))) continue;
    const list = found.get(st.pgid);
    if (list) list.push(st.pid);
    else found.set(st.pgid, [st.pid]);
  }
  return found;
}

/** Live members of one process group. */
export function groupMembers(pgid: number): number[] {
  return scanGroups(new Set([pgid])).get(pgid) ?? [];
}

/**
 * Send `signal` to every process of group `pgid`. Returns false when the group no longer exists
 * (ESRCH); never throws for that. Other errors (EPERM) are rethrown.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, num]) => [num, name]));

/** `SIGTERM` for 15; null for a number that is not a signal. */
export function signalName(num: number): string | null {
  return SIGNAL_NAMES.get(num) ?? null;
}
