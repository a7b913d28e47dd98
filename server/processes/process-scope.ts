/**
 * Everything one supervised process started, found again: its process group and, where the
 * kernel lets us, a cgroup of its own. A lane's command may start children that outlive it (a
 * test server left running, an agent tool's child) or leave the group (`setsid`, daemons); the
 * supervisor must find and stop them all, also after a server restart.
 *
 * Three ways to find a member, strongest first:
 * 1. **cgroup v2** (`<mount><own cgroup>/laneboard/<processId>`): the wrapper writes its own pid to
 *    the cgroup's `cgroup.procs` before it runs the command, so every descendant is in it, even one
 *    that calls `setsid`; `cgroup.kill` (Linux ≥ 5.14) SIGKILLs them all at once. Used when a
 *    cgroup2 hierarchy is mounted and the server may create directories in its own cgroup (root, or
 *    a delegated subtree); no controller is needed, so it also works beside cgroup v1 controllers.
 * 2. **process group**: the wrapper is a group leader (setsid); a pgid is not reused while any
 *    member lives (the kernel keeps the number in use), so while our wrapper runs every member is
 *    ours.
 * 3. **environment marker** `LANEBOARD_PROCESS_ID=<id>`, inherited by every descendant that does
 *    not clear its environment: proves a group member is ours once the wrapper is gone (its pgid
 *    could in theory belong to a new group by then), and without a cgroup finds a member that left
 *    the group.
 * Formats: cgroup v2 interface files (Documentation/admin-guide/cgroup-v2.rst), proc(5).
 */
import { accessSync, constants as fsc, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { readProcStat } from "./procfs";

/** Environment variable every supervised process (and, unless it clears it, each descendant) carries. */
export const PROCESS_MARKER = "LANEBOARD_PROCESS_ID";

/** Where one supervised process's members are looked for. */
export interface ProcessScope {
  /** The supervised process (its marker); null for a bare process group, whose members are all trusted. */
  processId: string | null;
  /** The wrapper's process group (= its pid); null if never recorded. */
  pgid: number | null;
  /** The process's cgroup directory, or null (no cgroup support). */
  cgroup: string | null;
  /**
   * True while this server has seen the wrapper alive under its recorded start time: then every
   * member of `pgid` is ours. Otherwise a group member must carry the marker.
   */
  trustPgid: boolean;
}

/**
 * The directory under which per-process cgroups are created: `<cgroup2 mount><own cgroup>/laneboard`,
 * created if needed. null when there is no cgroup2 hierarchy or we may not create or join cgroups
 * there (then the supervisor falls back to process groups and the marker).
 */
export function findCgroupParent(): string | null {
  try {
    const mount = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      // mountinfo(5): fields …, mount point (5th), …, " - ", fs type, source, options
      .map((l) => l.split(" - "))
      .find(([, tail]) => tail?.startsWith("cgroup2 "))?.[0]
      ?.split(" ")[4];
    const own = /^0::(\/.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1];
    if (!mount || own === undefined) return null;
    const parent = path.join(mount, own, "laneboard");
    mkdirSync(parent, { recursive: true });
    accessSync(path.join(parent, "cgroup.procs"), fsc.W_OK);
    return parent;
  } catch {
    return null;
  }
}

/** Create the cgroup of one process; null when that fails (the process then runs without one). */
export function createCgroup(parent: string, processId: string): string | null {
  const dir = path.join(parent, processId);
  try {
    mkdirSync(dir);
    return dir;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EEXIST" ? dir : null;
  }
}

/**
 * Create the cgroup of a new process and record its path in `file` (the process directory's
 * `cgroup`, read by a later server); null when either fails (the process then runs without one).
 */
export function createProcessCgroup(parent: string, processId: string, file: string): string | null {
  const dir = createCgroup(parent, processId);
  if (!dir) return null;
  try {
    writeFileSync(file, dir);
    return dir;
  } catch {
    removeCgroup(dir);
    return null;
  }
}

/** The cgroup a process was started in, from its process directory's `cgroup` file; null if none. */
export function readCgroupFile(file: string): string | null {
  try {
    return readFileSync(file, "utf8").trim() || null;
  } catch {
    return null;
  }
}

/** Pids in a cgroup (empty when it is gone). */
export function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(path.join(dir, "cgroup.procs"), "latin1").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Remove an empty cgroup; false while it still has members (EBUSY) or on another error. */
export function removeCgroup(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
}

/** The OOM killer's kill count for a cgroup (`memory.events` `oom_kill`); null without a memory controller. */
export function cgroupOomKills(dir: string): number | null {
  try {
    const m = /^oom_kill (\d+)$/m.exec(readFileSync(path.join(dir, "memory.events"), "latin1"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** True when `pid`'s environment holds the marker of `processId`. */
export function hasMarker(pid: number, processId: string): boolean {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, "latin1");
    const entry = `${PROCESS_MARKER}=${processId}`;
    const at = env.indexOf(entry);
    return at >= 0 && (at === 0 || env[at - 1] === "\0") && (env.length === at + entry.length || env[at + entry.length] === "\0");
  } catch {
    return false;
  }
}

/**
 * Live (non-zombie) members of each scope, in one pass over `/proc` for all of them.
 * @returns pids per scope (same order as `scopes`)
 */
export function scanScopes(scopes: readonly ProcessScope[]): number[][] {
  const found = scopes.map((s) => new Set(s.cgroup ? cgroupPids(s.cgroup) : []));
  const byPgid = new Map<number, number[]>();
  const byMarker: number[] = [];
  scopes.forEach((s, i) => {
    // A cgroup holds every descendant (only root can move one out): no /proc pass needed for it.
    if (s.cgroup) return;
    if (s.pgid !== null) byPgid.set(s.pgid, [...(byPgid.get(s.pgid) ?? []), i]);
    if (s.processId !== null) byMarker.push(i);
  });
  let entries: string[] = [];
  try {
    if (byPgid.size > 0 || byMarker.length > 0) entries = readdirSync("/proc");
  } catch {
    // no /proc: nothing can be found
  }
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    const st = readProcStat(pid);
    if (!st || st.state === "Z") continue;
    const inGroup = byPgid.get(st.pgid) ?? [];
    for (const i of inGroup) if (trusts(scopes[i]!, pid)) found[i]!.add(pid);
    for (const i of byMarker) if (!inGroup.includes(i) && hasMarker(pid, scopes[i]!.processId!)) found[i]!.add(pid);
  }
  // cgroup.procs also lists zombies until they are reaped.
  return found.map((set) => [...set].filter((pid) => { const st = readProcStat(pid); return st !== null && st.state !== "Z"; }));
}

function trusts(scope: ProcessScope, pid: number): boolean {
  return scope.trustPgid || scope.processId === null || hasMarker(pid, scope.processId);
}

/** A bare process group (no cgroup, no marker): every member counts. */
export function groupScope(pgid: number): ProcessScope {
  return { processId: null, pgid, cgroup: null, trustPgid: true };
}

/** Live members of one scope. */
export function scopeMembers(scope: ProcessScope): number[] {
  return scanScopes([scope])[0]!;
}

/**
 * Signal every member of a scope: the whole group at once while it is trusted, each found member,
 * and for SIGKILL the cgroup through `cgroup.kill`. Never throws for a process that is gone.
 * @returns true when at least one signal was delivered
 */
export function signalScope(scope: ProcessScope, signal: "SIGTERM" | "SIGKILL", members: readonly number[] = scopeMembers(scope)): boolean {
  let sent = false;
  const send = (target: number) => {
    try {
      process.kill(target, signal);
      sent = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  };
  const wholeGroup = scope.pgid !== null && scope.trustPgid;
  if (wholeGroup) send(-scope.pgid!);
  if (signal === "SIGKILL" && scope.cgroup) {
    try {
      writeFileSync(path.join(scope.cgroup, "cgroup.kill"), "1");
      sent = members.length > 0 || sent;
    } catch {
      // before Linux 5.14, or the cgroup is gone: the members are signalled one by one below
    }
  }
  // Members of the group were signalled with it: a second SIGTERM can read as "force quit".
  for (const pid of members) if (!wholeGroup || readProcStat(pid)?.pgid !== scope.pgid) send(pid);
  return sent;
}

/**
 * Tells kill waiters when a scope is empty, at the cost of one `/proc` scan per tick for all of
 * them: one timer rescans every `intervalMs` while someone waits (a scan reads every
 * `/proc/<pid>/stat`: a few ms with a few hundred processes, so 100 concurrent kills must not each
 * scan on their own).
 */
export class ScopeWatcher {
  #waiters = new Map<ProcessScope, Array<() => void>>();
  #timer: NodeJS.Timeout | null = null;

  /** @param intervalMs how often `/proc` is scanned while someone waits (ms) */
  constructor(private readonly intervalMs = 20) {}

  /** Resolves once the scope has no live (non-zombie) member, as seen by the next scan. */
  whenGone(scope: ProcessScope): Promise<void> {
    return new Promise((resolve) => {
      const list = this.#waiters.get(scope);
      if (list) list.push(resolve);
      else this.#waiters.set(scope, [resolve]);
      this.#timer ??= setInterval(() => this.#tick(), this.intervalMs);
    });
  }

  #tick(): void {
    const scopes = [...this.#waiters.keys()];
    scanScopes(scopes).forEach((members, i) => {
      if (members.length > 0) return;
      const scope = scopes[i]!;
      for (const resolve of this.#waiters.get(scope)!) resolve();
      this.#waiters.delete(scope);
    });
    if (this.#waiters.size === 0) this.stop();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
