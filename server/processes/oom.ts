/**
 * Was a SIGKILL the kernel's out-of-memory killer? Only evidence counts: the process's cgroup's
 * `memory.events` `oom_kill` counter (cgroup v2 with the memory controller), or an OOM-kill record
 * in the kernel log (`/dev/kmsg`) during the process's life naming one of its processes. Anything
 * else is a SIGKILL from outside (a person, another supervisor), and is reported as that.
 *
 * Kernel log format: Documentation/ABI/testing/dev-kmsg — one record per read(2),
 * `<priority>,<sequence>,<µs since boot>,<flags>[,…];<message>\n` followed by continuation lines;
 * the facility is `priority >> 3` (0 = kernel: records written to /dev/kmsg from user space
 * carry another facility, so they cannot forge an OOM kill). The OOM killer's record
 * (mm/oom_kill.c `__oom_kill_process`): `Out of memory: Killed process <pid> (<comm>) total-vm:…`
 * (`Memory cgroup out of memory: …` for a memcg limit).
 */
import { closeSync, constants, openSync, readFileSync, readSync } from "node:fs";

export interface OomKill {
  pid: number;
  /** The victim's command name (at most 15 bytes, the kernel's `comm`). */
  comm: string;
  /** When it was logged (ms since the epoch). */
  at: number;
}

const OOM_RECORD = /^(?:Memory cgroup out of memory|Out of memory(?: \(oom_kill_allocating_task\))?): Killed process (\d+) \((.*)\) total-vm:/;

/**
 * Parse kernel log records (the text of successive /dev/kmsg reads, one record per line) into the
 * OOM kills they name. `bootMs`: when the machine booted (ms since the epoch).
 */
export function parseOomKills(records: Iterable<string>, bootMs: number): OomKill[] {
  const kills: OomKill[] = [];
  for (const record of records) {
    const semi = record.indexOf(";");
    if (semi < 0) continue;
    const [prio, , usec] = record.slice(0, semi).split(",");
    if (Number(prio) >> 3 !== 0) continue; // not the kernel's own record
    const m = OOM_RECORD.exec(record.slice(semi + 1));
    if (m) kills.push({ pid: Number(m[1]), comm: m[2]!, at: bootMs + Number(usec) / 1000 });
  }
  return kills;
}

/** When the machine booted (ms since the epoch), from /proc/uptime. */
function bootTimeMs(): number {
  const uptime = Number(readFileSync("/proc/uptime", "latin1").split(" ")[0]);
  return Date.now() - uptime * 1000;
}

/**
 * The OOM kills in the kernel log's ring buffer (oldest records may have been overwritten).
 * @returns [] when the log cannot be read (no permission: CAP_SYSLOG or `dmesg_restrict`)
 */
export function readOomKills(): OomKill[] {
  let fd: number;
  try {
    fd = openSync("/dev/kmsg", constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return [];
  }
  const records: string[] = [];
  const buf = Buffer.alloc(16 * 1024);
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EPIPE") continue; // records were overwritten while we read: go on with the next
        break; // EAGAIN: the end of the buffer
      }
      if (n <= 0) break;
      records.push(buf.toString("utf8", 0, n));
    }
  } finally {
    closeSync(fd);
  }
  return parseOomKills(records, bootTimeMs());
}

/**
 * Evidence that the OOM killer ended a process: its cgroup counted an OOM kill, or the kernel
 * logged one between `fromMs` and `toMs` (+1 s for the log's lag) naming one of `pids` or, since
 * the command's own pid is not recorded, a process named like its program (`comm`, 15 bytes).
 */
export function oomEvidence(o: { cgroupOomKills: number | null; fromMs: number; toMs: number; pids: readonly number[]; program: string | null; kills?: OomKill[] }): string | null {
  if (o.cgroupOomKills !== null && o.cgroupOomKills > 0) return `the cgroup's memory.events counts ${o.cgroupOomKills} OOM kill(s)`;
  const comm = o.program ? o.program.split("/").pop()!.slice(0, 15) : null;
  const hit = (o.kills ?? readOomKills()).find(
    (k) => k.at >= o.fromMs - 1000 && k.at <= o.toMs + 1000 && (o.pids.includes(k.pid) || (comm !== null && k.comm === comm)),
  );
  return hit ? `the kernel log: out of memory, killed process ${hit.pid} (${hit.comm})` : null;
}
