/**
 * Starting a supervised process: check the request (argv, cwd inside its confinement, the command
 * found on PATH), make its directory (refused while the data disk is full), record its `starting`
 * row, start watching its log files before it can write, spawn the detached `sh` wrapper
 * (wrapper.ts) in a cgroup of its own where there is one, and persist its pid, process group and
 * OS start time (`running`). Following it from there is the supervisor's.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { AppError } from "@/lib/errors";
import { redactEnv } from "@/lib/redact";
import type { Db } from "../store/db";
import { MIN_FREE_BYTES } from "./disk-watch";
import { createProcessCgroup, removeCgroup } from "./process-scope";
import type { LogTailer } from "./tailer";
import type { WrapperStatus } from "./tracked";
import type { StartProcessSpec } from "./types";
import type { ProcessRow } from "./views";
import { type StdinMode, checkCwd, processPaths, resolveCommand, spawnWrapper } from "./wrapper";

export interface LaunchOptions {
  db: Db;
  dataDir: string;
  /** Where the process's cgroup is made; null: none. */
  cgroupParent: string | null;
  /** True while new work must be refused for lack of disk space. */
  diskFull: () => Promise<boolean>;
  tailer: LogTailer;
  /** The node whose supervisor starts it, written to its row (docs/scale-out.md); null: one node, no id. */
  nodeId: string | null;
}

/** A spawned wrapper: its row as created, its identity, and its end. */
export interface Launched {
  row: ProcessRow;
  pid: number;
  /** OS start time of the wrapper (proc(5) field 22), null if it could not be read. */
  startTime: string | null;
  startedAt: Date;
  stdin: StdinMode;
  /** Resolves with the wrapper's own status when it ends; null: unknown here (see wrapper.ts `spawnWrapper`). */
  done: Promise<WrapperStatus | null>;
  /** Resolves once pid, process group and start time are on the row. */
  ready: Promise<void>;
}

/**
 * Spawn the process's wrapper as the leader of its own process group, detached from the server.
 * Resolves once it is spawned; its row becomes `running` when `ready` resolves.
 * @throws AppError invalid_input (empty argv, missing cwd), outside_worktree, command_not_found,
 *   not_found (the lane does not exist), disk_full, unavailable (the OS or the disk refused)
 */
export async function launchProcess(spec: StartProcessSpec, o: LaunchOptions): Promise<Launched> {
  if (spec.argv.length === 0 || spec.argv.some((a) => typeof a !== "string" || a.includes("\0"))) {
    throw new AppError("invalid_input", "argv must be a non-empty array of strings without NUL bytes", { field: "argv" });
  }
  const cwd = await checkCwd(spec.cwd, spec.confineTo);
  const env = spec.env ?? {};
  await resolveCommand(spec.argv[0]!, cwd, env.PATH ?? process.env.PATH);
  const id = randomUUID();
  const paths = processPaths(o.dataDir, id);
  const stdin = spec.stdin ?? "fifo";
  try {
    mkdirSync(paths.dir, { recursive: true });
  } catch (err) {
    throw new AppError("unavailable", `cannot create the process directory: ${(err as Error).message}`);
  }
  if (await o.diskFull()) {
    rmSync(paths.dir, { recursive: true, force: true });
    throw new AppError("disk_full", `no space left for process logs (less than ${MIN_FREE_BYTES} bytes free in ${o.dataDir})`);
  }
  const cgroup = o.cgroupParent ? createProcessCgroup(o.cgroupParent, id, paths.cgroup) : null;
  const row = await o.db.process
    .create({
      data: {
        id, laneId: spec.laneId, role: spec.role, command: JSON.stringify(spec.argv), cwd, env: JSON.stringify(redactEnv(env)), nodeId: o.nodeId,
        status: "starting", logDir: paths.dir, stdoutPath: paths.stdout, stderrPath: paths.stderr,
      },
    })
    .catch((err: unknown) => {
      rmSync(paths.dir, { recursive: true, force: true });
      // P2003: foreign key (the lane does not exist)
      throw (err as { code?: string }).code === "P2003"
        ? new AppError("not_found", `lane ${spec.laneId} not found`)
        : new AppError("unavailable", `cannot record the process: ${(err as Error).message}`);
    });
  // Watched before it runs: the order of its first writes to stdout and stderr is in the watch's events.
  o.tailer.watchEarly(id, paths.dir);
  let spawned;
  try {
    spawned = await spawnWrapper(paths, spec.argv, { cwd, env, secretEnv: spec.secretEnv ?? [], stdin, processId: id, cgroup });
  } catch (err) {
    o.tailer.remove(id);
    if (cgroup) removeCgroup(cgroup);
    await o.db.process.update({ where: { id }, data: { status: "spawn_failed", endedAt: new Date() } });
    throw err instanceof AppError ? err : new AppError("unavailable", `cannot start the process: ${(err as Error).message}`);
  }
  // Read by its parent (the git helper) right after the fork: until the wrapper is reaped its pid cannot be reused.
  const startTime = spawned.startTime;
  const startedAt = new Date();
  const ready = o.db.process
    .update({ where: { id }, data: { pid: spawned.pid, pgid: spawned.pid, osStartTime: startTime, status: "running", startedAt } })
    .then(() => undefined);
  return { row, pid: spawned.pid, startTime, startedAt, stdin, done: spawned.done, ready };
}
