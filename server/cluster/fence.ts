/**
 * The node side of fencing (see fence-watchdog.mjs for the watchdog): keep one watchdog running
 * per data dir, tell it the lease was renewed (rewrite `<dataDir>/cluster/lease` after each
 * heartbeat the database accepted), and after a renewal decide about paused processes: resume
 * them (SIGCONT), or, when the leader declared this node lost meanwhile, kill the ones whose rows
 * it marked lost (their lanes went to other nodes).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ProcessSupervisor } from "../processes/supervisor";
import { isSameProcess, readCmdline, readProcStat, signalGroup } from "../processes/procfs";
import type { Db } from "../store/db";

const WATCHDOG = fileURLToPath(new URL("./fence-watchdog.mjs", import.meta.url));

export class Fence {
  readonly #dir: string;
  /** This process's start time (/proc/<pid>/stat), written into the lease file. */
  readonly #startTime = readProcStat(process.pid)?.startTime ?? "0";

  constructor(private readonly deps: { dataDir: string; leaseMs: number; nodeId: string; db: Db; supervisor: Pick<ProcessSupervisor, "liveGroups"> }) {
    this.#dir = path.join(deps.dataDir, "cluster");
  }

  /** Renew, and start the watchdog unless one already guards this data dir. */
  start(): void {
    mkdirSync(this.#dir, { recursive: true });
    this.renewed();
  }

  /**
   * The database accepted a heartbeat: push the watchdog's deadline back, and start a watchdog
   * again if none runs (it exits after ten idle leases, or may have been killed).
   */
  renewed(): void {
    // Names this process, so the watchdog can tell a dead node from one cut off from the database.
    writeFileSync(path.join(this.#dir, "lease"), `${process.pid} ${this.#startTime}\n`);
    if (this.#watchdogAlive()) return;
    const child = spawn(process.execPath, [WATCHDOG, this.deps.dataDir, String(this.deps.leaseMs)], { detached: true, stdio: "ignore" });
    child.unref();
    // Its pid now, so the next renewal does not start a second one before it wrote its own file.
    if (child.pid) writeFileSync(path.join(this.#dir, "watchdog.pid"), `${child.pid}\n`);
  }

  /** Resume every paused process of this node (a no-op for running ones). */
  resumeAll(): void {
    for (const pgid of this.deps.supervisor.liveGroups()) signalGroup(pgid, "SIGCONT");
  }

  /**
   * Kill this node's processes that the leader marked lost (with their lanes) while the node was
   * away but that still run (paused by the fence). Call before reattaching processes at boot and
   * when a heartbeat finds the node had been declared lost.
   * @returns how many process groups were killed
   */
  async killLost(): Promise<number> {
    const rows = await this.deps.db.process.findMany({ where: { nodeId: this.deps.nodeId, status: "lost", pgid: { not: null } }, select: { pgid: true, osStartTime: true } });
    let killed = 0;
    for (const r of rows) {
      if (r.pgid === null || r.osStartTime === null || !isSameProcess(r.pgid, r.osStartTime)) continue;
      if (signalGroup(r.pgid, "SIGKILL")) killed++;
    }
    return killed;
  }

  /** The node leaves the cluster for good (clean stop with its lanes killed): the watchdog exits. */
  retire(): void {
    rmSync(path.join(this.#dir, "lease"), { force: true });
  }

  #watchdogAlive(): boolean {
    const file = path.join(this.#dir, "watchdog.pid");
    if (!existsSync(file)) return false;
    const pid = Number(readFileSync(file, "utf8").trim());
    if (!(pid > 0) || !readProcStat(pid)) return false;
    return (readCmdline(pid) ?? []).some((a) => a.endsWith("fence-watchdog.mjs"));
  }
}
