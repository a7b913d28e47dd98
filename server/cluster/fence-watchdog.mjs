/**
 * A node's fence: a small process of its own (started detached by server/cluster/fence.ts, so it
 * outlives the node) that pauses the node's lane processes once the node has not renewed its
 * lease for `FENCE_FRACTION` of it. The leader declares a node lost only after a whole lease, so
 * by then the lost node's processes are stopped (SIGSTOP to each process group): a lane queued
 * again on another node never runs twice. When the node renews again it resumes them (SIGCONT),
 * or kills them if it was declared lost meanwhile; that is the node's decision, not the fence's.
 *
 * A node that died and stays dead would leave its processes paused forever. So once the lease
 * has not been renewed for `ABANDON_LEASES` leases and the node's process is gone (not merely
 * cut off from the database: a node that still runs keeps its paused processes, and decides
 * when it reaches the database again), the watchdog kills the paused process groups and exits.
 * By then the leader has long declared the node lost and queued its lanes elsewhere; a node
 * restarted later finds those processes dead, as it would have killed them itself.
 *
 * Usage: `node fence-watchdog.mjs <dataDir> <leaseMs>`. Reads `<dataDir>/cluster/lease` (its
 * modification time is the node's last renewal; the node rewrites it after each heartbeat the
 * database accepted, with `<pid> <start time>` of the node's process: /proc/<pid>/stat field 22)
 * and `<dataDir>/processes/<id>/{pid,exit}` (the supervisor's files, see
 * server/processes/wrapper.ts: a live wrapper's pid is its process group; its exit file holds a
 * blank placeholder until the command ended, then the status and a newline). Writes `<dataDir>/cluster/watchdog.pid` and appends each
 * pause and kill to `<dataDir>/cluster/fence.log`. Exits when the lease file is removed (the node
 * left the cluster cleanly), when nothing is left to guard for ten leases, or after killing what
 * a dead node abandoned.
 *
 * Plain JavaScript: it starts without a TypeScript loader, in about 40 ms.
 */
import { appendFileSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Pause at this fraction of the lease: before the leader's verdict (a whole lease). */
export const FENCE_FRACTION = 0.8;

/** Leases without renewal, the node's process gone, after which its paused processes are killed. */
export const ABANDON_LEASES = 10;

const [dataDir, leaseArg] = process.argv.slice(2);
const leaseMs = Number(leaseArg);
if (!dataDir || !(leaseMs > 0)) {
  process.stderr.write("usage: fence-watchdog.mjs <dataDir> <leaseMs>\n");
  process.exit(2);
}
const clusterDir = path.join(dataDir, "cluster");
const leaseFile = path.join(clusterDir, "lease");
const processesDir = path.join(dataDir, "processes");
const tickMs = Math.max(50, Math.min(1000, Math.floor(leaseMs / 20)));
writeFileSync(path.join(clusterDir, "watchdog.pid"), `${process.pid}\n`);

/** State letter of a process (`R`, `S`, `T` stopped, `Z`…), or null when it is gone. */
function procState(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return null;
  }
}

/**
 * Has the process ended? Its exit file holds a status and a newline then (wrapper.ts
 * `readExitFile`); while it runs the file is absent or only the wrapper's placeholder of spaces.
 */
function exited(dir) {
  try {
    return /^\d+\n *$/.test(readFileSync(path.join(dir, "exit"), "utf8"));
  } catch {
    return false;
  }
}

/** Is `pid` the wrapper of process dir `dir` (`/bin/sh -c <script> sh <dir> …`), not a reused pid? */
function isWrapperOf(pid, dir) {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv[0] === "/bin/sh" && !!argv[4] && path.resolve(argv[4]) === path.resolve(dir);
  } catch {
    return false;
  }
}

/** Process groups of the data dir's live processes (wrapper pid = group id; no exit status yet). */
function liveGroups() {
  const groups = [];
  let names = [];
  try {
    names = readdirSync(processesDir);
  } catch {
    return groups;
  }
  for (const name of names) {
    const dir = path.join(processesDir, name);
    if (exited(dir)) continue;
    let pid;
    try {
      pid = Number(readFileSync(path.join(dir, "pid"), "utf8").trim());
    } catch {
      continue;
    }
    const state = pid > 0 ? procState(pid) : null;
    if (state && state !== "Z" && isWrapperOf(pid, dir)) groups.push({ pid, stopped: state === "T" });
  }
  return groups;
}

/** Start time of `pid` (/proc/<pid>/stat field 22, clock ticks since boot), or null when it is gone or a zombie. */
function startTimeOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" ? null : fields[19];
  } catch {
    return null;
  }
}

/**
 * Does the node's process still run? The lease file names it (`<pid> <start time>`); a lease
 * file without it (an older node) counts as running: nothing is killed on a guess.
 */
function nodeRuns() {
  let text;
  try {
    text = readFileSync(leaseFile, "utf8");
  } catch {
    return true;
  }
  const m = /^(\d+) (\d+)\s*$/.exec(text);
  if (!m) return true;
  return startTimeOf(Number(m[1])) === m[2];
}

/** Exit, saying why in the fence log (a node restarted later starts a new watchdog). */
function quit(reason) {
  try {
    appendFileSync(path.join(clusterDir, "fence.log"), `${new Date().toISOString()} watchdog ${process.pid} exits: ${reason}\n`);
  } catch {
    // the data dir is gone
  }
  process.exit(0);
}

let idleSince = Date.now();
/** Said once per silence that the node's paused groups are kept because its process runs. */
let holdingOff = false;
setInterval(() => {
  let renewedAt;
  try {
    renewedAt = statSync(leaseFile).mtimeMs;
  } catch {
    quit("the lease file is gone: the node left the cluster cleanly");
  }
  const groups = liveGroups();
  if (groups.length) idleSince = Date.now();
  const silentMs = Date.now() - renewedAt;
  if (silentMs > leaseMs * FENCE_FRACTION) {
    for (const g of groups) {
      if (g.stopped) continue;
      try {
        process.kill(-g.pid, "SIGSTOP");
        appendFileSync(path.join(clusterDir, "fence.log"), `${new Date().toISOString()} paused group ${g.pid}: lease not renewed for ${silentMs} ms\n`);
      } catch {
        // gone meanwhile
      }
    }
  }
  const abandoned = silentMs > leaseMs * ABANDON_LEASES && groups.length > 0;
  // The lease file is read for the node's process only once the silence is that long, once a tick.
  const nodeGone = abandoned && !nodeRuns();
  if (abandoned && !nodeGone && !holdingOff) {
    holdingOff = true;
    appendFileSync(path.join(clusterDir, "fence.log"), `${new Date().toISOString()} no renewal for ${silentMs} ms, but the node's process runs (or is not named): its ${groups.length} paused group(s) stay paused\n`);
  }
  if (!abandoned) holdingOff = false;
  if (nodeGone) {
    for (const g of groups) {
      try {
        process.kill(-g.pid, "SIGKILL");
        appendFileSync(path.join(clusterDir, "fence.log"), `${new Date().toISOString()} killed group ${g.pid}: the node is gone and its lease was not renewed for ${silentMs} ms\n`);
      } catch {
        // gone meanwhile
      }
    }
    quit("the node is gone: its paused processes were killed");
  }
  if (silentMs > leaseMs * 10 && Date.now() - idleSince > leaseMs * 10) quit(`nothing to guard, and no renewal for ${Math.round(silentMs)} ms`);
}, tickMs);
