/**
 * The durable process supervisor: processes outlive a server restart and their logs lose
 * nothing. See docs/architecture.md §Processes and the modules it is built from:
 * launch.ts (checks, row, spawn), wrapper.ts (detached `sh` wrapper, exit file), tracked.ts (what
 * is known of a followed process), reattach.ts (finding processes again after a restart),
 * kill-group.ts (SIGTERM → SIGKILL), process-end.ts and exit-recorder.ts (an end worked out,
 * recorded once, announced), procfs.ts (identity, groups), tailer.ts and proc-log.ts (log
 * pipeline), log-reader.ts (read back), retention.ts (caps).
 *
 * Life of a process: `start` records a `starting` row, spawns the wrapper, records pid / pgid /
 * OS start time (`running`) and follows its logs. It ends when the wrapper's parent (the git helper,
 * server/git/spawner.ts) says it exited, or — reattached after a restart, or its helper gone — when
 * its exit file appears or the pid is gone (one poll timer for all). Ending: final read of the logs (partial
 * last lines included) → guarded row update (`where status is starting|running`, so two
 * supervisors can never both record an exit) → `process.exited` / `process.lost` event →
 * bus `process.exit`. The exit file is the source of truth for the status.
 */
import path from "node:path";
import type { LogLine, ProcessView } from "@/lib/api";
import { AppError } from "@/lib/errors";
import type { ProcessExit } from "../events/event-bus";
import type { NewLaneEvent } from "@/lib/lane-events";
import { STREAMS, type StreamName } from "./log-files";
import { killTracked, remainingGraceMs } from "./kill-group";
import { mergeTails, readChunkAt, readLast, readPage, withStreamSources, type LogPage, type LogQuery, type StreamSource } from "./log-reader";
import type { LineRun } from "./line-chunker";
import { isSameProcess } from "./procfs";
import { ScopeWatcher, findCgroupParent } from "./process-scope";
import { Retention } from "./retention";
import { DiskWatch } from "./disk-watch";
import { EventOutbox } from "./event-outbox";
import { writeToFifo } from "./stdin";
import { LogTailer } from "./tailer";
import { syncOffsetRows, type OffsetRow } from "./process-rows";
import { ExitRecorder, type PendingExit } from "./exit-recorder";
import { launchProcess } from "./launch";
import { endNeverRan, inspectLiveRow, ownRows } from "./reattach";
import { exitEvent, settleExit } from "./process-end";
import { type Tracked, newTracked } from "./tracked";
import { type StdinMode, processPaths, readExitFile } from "./wrapper";
import type { StartProcessSpec, SupervisorOptions } from "./types";
import { type ProcessRow, LIVE_STATUSES, exitFromRow, toProcessView } from "./views";

export type { StartProcessSpec, SupervisorOptions } from "./types";
export { remainingGraceMs } from "./kill-group";

/** Ended processes remembered (log reads skip the row lookup; waitForExit answers before the row is written). */
const ENDED_CACHE = 4096;

export class ProcessSupervisor {
  #tracked = new Map<string, Tracked>();
  /** Processes this server saw end, with their exit (resolved once recorded or kept to retry); oldest first. */
  #ended = new Map<string, Promise<ProcessExit>>();
  #scopes = new ScopeWatcher();
  #exits: ExitRecorder;
  /** Events on their way to the event log, kept while the database refuses them (a full disk). */
  #outbox: EventOutbox;
  /** Where per-process cgroups are made; null: none (process groups and the marker only). */
  readonly cgroupParent: string | null;
  #tailer: LogTailer;
  #retention: Retention;
  #disk: DiskWatch;
  #timers: NodeJS.Timeout[] = [];
  #closed = false;
  #quit: Promise<void> | null = null;

  constructor(private readonly opts: SupervisorOptions) {
    this.cgroupParent = opts.cgroups === "off" ? null : findCgroupParent();
    this.#exits = new ExitRecorder(opts.db, (p) => this.#disk.check().then(() => this.#announce(p)), (m) => this.#warn(null, m), (err) => void this.#disk.refused(err));
    this.#outbox = new EventOutbox((e) => opts.events.append(e), (err) => void this.#disk.refused(err));
    // The database and the process logs may live on different file systems: either one full is full.
    this.#disk = new DiskWatch([opts.dataDir, path.join(opts.dataDir, "processes")], {
      waiting: () => this.#exits.pending > 0 || this.#outbox.waiting > 0,
      onChange: (full, freeBytes) => {
        const dir = this.opts.dataDir;
        console.warn(`[processes] the data disk ${full ? "is full" : "has room again"} (${freeBytes} bytes free in ${dir})`);
        void this.#append(full
          ? { type: "disk.full", laneId: null, payload: { dir, freeBytes, detectedAt: new Date().toISOString() } }
          : { type: "disk.space_freed", laneId: null, payload: { dir, freeBytes } });
      },
    });
    this.#tailer = new LogTailer({
      flushDelayMs: opts.flushDelayMs ?? 0,
      pollMs: opts.logPollMs ?? 1000,
      // 64 KiB per stream per flush: bounds the bytes held per flush (live chunks are copies).
      readBudget: 64 * 1024,
      onChunks: (log, chunks) =>
        opts.bus.emit("process.output", { laneId: log.laneId, processId: log.processId, role: this.#tracked.get(log.processId)?.role ?? "unknown", chunks }),
      partialDelayMs: opts.partialDelayMs ?? 250,
      onPartial: (log, stream, p) => opts.bus.emit("process.partial", { laneId: log.laneId, processId: log.processId, stream, offset: p.offset, data: p.data }),
      onExitFile: (id) => this.#checkEnded(id),
      onWarning: (log, message) => this.#warn(log.laneId, message),
    });
    this.#retention = new Retention(opts.logMaxBytesPerProcess, opts.logMaxBytesTotal, {
      liveLogs: () => [...this.#tracked.values()].map((t) => t.log),
      onTruncated: (processId, laneId, bytes) => void this.#onTruncated(processId, laneId, bytes),
      onWarning: (_id, laneId, message) => this.#warn(laneId, message),
    });
    const every = (ms: number, fn: () => void) => this.#timers.push(setInterval(fn, ms).unref());
    every(opts.exitPollMs ?? 200, () => {
      for (const t of this.#tracked.values()) if (!t.wrapperDone) this.#checkEnded(t.id);
    });
    every(opts.retentionIntervalMs ?? 2000, () => void Promise.all([this.#retention.enforce(), this.#disk.check()]));
    every(opts.dbSyncMs ?? 5000, () => void this.#syncOffsets());
  }

  /** Process groups of the live processes this supervisor tracks (for the cluster's fence). */
  liveGroups(): number[] {
    return [...this.#tracked.values()].flatMap((t) => (t.pgid !== null && !t.ending ? [t.pgid] : []));
  }

  /**
   * Boot: for every process recorded as starting/running, reattach (pid alive with the recorded
   * OS start time), record the exit it had while the server was down (exit file), end one that
   * never ran (reattach.ts `endNeverRan`), or mark it `lost`. Never starts a process. Call once,
   * before {@link start}. @returns ids per outcome
   */
  async recover(): Promise<{ reattached: string[]; exited: string[]; lost: string[]; neverRan: string[] }> {
    const result = { reattached: [] as string[], exited: [] as string[], lost: [] as string[], neverRan: [] as string[] };
    const rows = await this.opts.db.process.findMany({ where: { status: { in: [...LIVE_STATUSES] }, ...ownRows(this.opts) } });
    for (const row of rows) {
      if (this.#tracked.has(row.id)) continue;
      const found = await inspectLiveRow(this.opts.db, this.opts.dataDir, row);
      if (!found.running && found.neverRan) {
        if (await endNeverRan(row, { ...this.opts, warn: (m) => this.#warn(row.laneId, m), refused: (err) => void this.#disk.refused(err) })) result.neverRan.push(row.id);
        continue;
      }
      if (found.running) {
        this.#track(row, found.pid, found.osStartTime, null, Promise.resolve(), { verified: true });
        result.reattached.push(row.id);
        await this.#append({ type: "process.reattached", laneId: row.laneId, payload: { processId: row.id, pid: found.pid } });
        // Killed in its grace period by a server that stopped before the SIGKILL: finish the kill
        // with what is left of the grace period, else a command that traps SIGTERM runs forever.
        if (row.killRequestedAt) void this.kill(row.id, { graceMs: remainingGraceMs(row.killRequestedAt, this.opts.killGraceMs) }).catch(() => undefined);
        continue;
      }
      const t = this.#track(row, found.pid, found.osStartTime, null, Promise.resolve(), { verified: false });
      const exit = await this.#end(t, found.lostReason);
      (exit.status === "lost" ? result.lost : result.exited).push(row.id);
    }
    const finished = await this.opts.db.process.findMany({
      where: { status: { notIn: [...LIVE_STATUSES] }, ...ownRows(this.opts) },
      select: { id: true, laneId: true, endedAt: true },
    });
    for (const f of finished) this.#retention.addFinished(f.id, f.laneId, processPaths(this.opts.dataDir, f.id), f.endedAt);
    void this.#retention.enforce();
    void this.#disk.check();
    return result;
  }

  /**
   * Start a process as the leader of its own process group, detached from the server.
   * Resolves once its pid, process group and OS start time are persisted.
   * @throws AppError invalid_input (empty argv, missing cwd), outside_worktree, command_not_found,
   *   unavailable (the OS or the disk refused), conflict (the supervisor is shut down)
   */
  async start(spec: StartProcessSpec): Promise<ProcessView> {
    if (this.#closed) throw new AppError("conflict", "the process supervisor is shut down");
    const launched = await launchProcess(spec, {
      db: this.opts.db, dataDir: this.opts.dataDir, cgroupParent: this.cgroupParent, diskFull: () => this.diskFull(), tailer: this.#tailer, nodeId: this.opts.nodeId ?? null,
    });
    const { row, pid, startTime, startedAt, ready } = launched;
    const t = this.#track(row, pid, startTime, launched.done, ready, { verified: true, stdin: launched.stdin });
    void launched.done.then((status) => void (status ? this.#end(t, null) : ((t.wrapperDone = null), this.#checkEnded(t.id))));
    await ready;
    // Not awaited: the event log keeps append order, and a start need not wait for the event row.
    void this.#append({ type: "process.started", laneId: spec.laneId, payload: { processId: row.id, role: spec.role, pid, pgid: pid, command: spec.argv } });
    return toProcessView({ ...row, pid, pgid: pid, osStartTime: startTime, status: "running", startedAt });
  }

  /**
   * Kill the process group: SIGTERM, then SIGKILL after `graceMs` (default: the configured grace)
   * if any member remains. Resolves when no process of the group is left and the exit is recorded.
   * @throws AppError not_running when the process has already ended (or is not followed here)
   */
  kill(processId: string, opts: { graceMs?: number } = {}): Promise<ProcessExit> {
    const t = this.#tracked.get(processId);
    if (!t) return Promise.reject(new AppError("not_running", `process ${processId} is not running`));
    // Ending: what the command left behind is being stopped; the kill is done when that is.
    if (t.ending) return t.exit;
    t.killing ??= this.#kill(t, opts.graceMs ?? this.opts.killGraceMs);
    return t.killing;
  }

  async #kill(t: Tracked, graceMs: number): Promise<ProcessExit> {
    if (await killTracked(t, { db: this.opts.db, graceMs, groups: this.#scopes })) this.#checkEnded(t.id);
    return t.exit;
  }

  /**
   * Resolves with the process's exit: at once for one that has ended, else when it ends.
   * @throws AppError not_found; conflict for a live process this supervisor does not follow (forgotten)
   */
  async waitForExit(processId: string): Promise<ProcessExit> {
    const known = this.#tracked.get(processId)?.exit ?? this.#ended.get(processId);
    if (known) return known;
    const row = await this.#row(processId);
    if (LIVE_STATUSES.includes(row.status)) throw new AppError("conflict", `process ${processId} is not followed by this server`);
    return exitFromRow(row);
  }

  /** True while the exit of `processId` is known but kept from a database that refuses it (a full disk): not yet recorded nor announced. */
  exitKept(processId: string): boolean {
    return this.#exits.keeps(processId);
  }

  /**
   * Write to the process's stdin (its FIFO). Resolves when the bytes are in the pipe.
   * @throws AppError not_running (ended), conflict (started without stdin), unavailable (the
   *   process does not read its stdin and the pipe stayed full for 5 s)
   */
  writeStdin(processId: string, data: string): Promise<void> {
    const t = this.#tracked.get(processId);
    if (!t || t.ending) return Promise.reject(new AppError("not_running", `process ${processId} is not running`));
    if (t.stdin === "null") return Promise.reject(new AppError("conflict", `process ${processId} was started without stdin`));
    // A just-started wrapper may not have created its FIFO yet: wait for it briefly.
    const run = () => writeToFifo(t.log.paths.fifo, data, processId, { waitForReaderMs: Date.now() - t.startedAtMs < 5000 ? 2000 : 0 });
    const result = t.stdinChain.then(run, run);
    t.stdinChain = result.catch(() => undefined);
    return result;
  }

  /** @throws AppError not_found */
  async get(processId: string): Promise<ProcessView> {
    return toProcessView(await this.#row(processId));
  }

  /**
   * The last `maxLines` lines of both streams, in write order (lib/log-order.ts). For a live process
   * only published lines. Read-back timestamps are accurate to the index granularity (≤ 200 ms).
   * @throws AppError not_found
   */
  async tail(processId: string, maxLines: number): Promise<LogLine[]> {
    const n = Math.max(0, Math.floor(maxLines));
    const parts = await this.#withSources(processId, STREAMS, (srcs) => srcs.map((s) => (s ? readLast(s, n) : [])));
    return mergeTails(parts[0]!, parts[1]!, n);
  }

  /**
   * Read one stream back by byte range (`from`/`to`, logical offsets) or by line (`fromLine`, 0-based).
   * @throws AppError not_found, invalid_input, range_not_satisfiable (`from` past the end),
   *   unavailable (the log file is missing)
   */
  async readLog(processId: string, q: LogQuery): Promise<LogPage> {
    const [page] = await this.#withSources(processId, [q.stream], ([src]) => {
      if (!src) throw new AppError("unavailable", `${q.stream}.log of process ${processId} is missing`);
      return [readPage(src, q)];
    });
    return page!;
  }

  /**
   * Whole lines of a stream as bytes read into `into`, for a subscriber catching up (see
   * `readChunkAt`): null when they are gone or the process or file is unknown.
   * @throws RangeError when `into` cannot hold one whole line or piece
   */
  async readChunk(processId: string, stream: StreamName, from: number, to: number, into: Buffer): Promise<(LineRun & { seq: number }) | null> {
    const [run] = await this.#withSources(processId, [stream], ([src]) => [src ? readChunkAt(src, from, to, into) : null]).catch((err: unknown) => {
      if (err instanceof RangeError) throw err;
      return [null];
    });
    return run ?? null;
  }

  /** Stop following a process (tailing, exit watching). Never signals it; its row is unchanged. */
  async forget(processId: string): Promise<void> {
    const t = this.#tracked.get(processId);
    if (!t) return;
    this.#tailer.drain(t.log, false);
    this.#tailer.remove(processId);
    await this.#syncOffsets([t]);
    t.log.close();
    this.#tracked.delete(processId);
  }

  /**
   * Stop readers and timers (after publishing what is already written and persisting offsets).
   * With `kill`, first kill every followed process group. Without it, processes keep running and
   * a later {@link recover} reattaches them. Runs once; later calls share the first.
   */
  shutdown(opts: { kill: boolean }): Promise<void> {
    this.#quit ??= (async () => {
      if (opts.kill) await Promise.allSettled([...this.#tracked.keys()].map((id) => this.kill(id)));
      this.#closed = true;
      for (const timer of this.#timers) clearInterval(timer);
      this.#disk.stop();
      this.#exits.stop();
      this.#outbox.stop();
      this.#tailer.stop();
      this.#scopes.stop();
      await this.#syncOffsets();
      for (const t of this.#tracked.values()) t.log.close();
      this.#tracked.clear();
    })();
    return this.#quit;
  }

  /**
   * Follow a process. `verified`: pid and start time identify our wrapper right now (only then may
   * a deleted log be reopened through `/proc/<pid>/fd`: a reused pid would be someone else's).
   */
  #track(row: ProcessRow, pid: number | null, startTime: string | null, wrapperDone: Tracked["wrapperDone"], ready: Promise<void>, o: { verified: boolean; stdin?: StdinMode }): Tracked {
    const t = newTracked(row, pid, startTime, wrapperDone, ready, { ...o, dataDir: this.opts.dataDir, warn: (m) => this.#warn(row.laneId, m) });
    this.#tracked.set(row.id, t);
    this.#tailer.add(t.log);
    return t;
  }

  /** For a reattached process: end it if its exit file exists or its pid is gone / reused. */
  #checkEnded(processId: string): void {
    const t = this.#tracked.get(processId);
    if (!t || t.ending || t.wrapperDone) return;
    const alive = t.pid !== null && t.startTime !== null && isSameProcess(t.pid, t.startTime);
    if (!alive || readExitFile(t.log.paths.exit)) void this.#end(t, `process ${t.pid} is gone and left no exit status`);
  }

  /** Record the end of a process exactly once; `lostReason` is used when there is no exit status. */
  async #end(t: Tracked, lostReason: string | null): Promise<ProcessExit> {
    if (t.ending || this.#closed) return t.exit;
    t.ending = true;
    const { exit, endedAt } = await settleExit(t, { graceMs: this.opts.killGraceMs, scopes: this.#scopes, tailer: this.#tailer, warn: (m) => this.#warn(t.laneId, m) });
    this.#rememberEnded(t.id, t.exit);
    t.log.close();
    this.#tracked.delete(t.id);
    this.#retention.addFinished(t.id, t.laneId, t.log.paths, new Date());
    await this.#exits.record({ exit, endedAt, state: t.log.state, lostReason });
    t.resolveExit(exit);
    return exit;
  }

  /** Announce an exit once its row is written: its event, then the bus (the lane settles from it). */
  async #announce(pending: PendingExit): Promise<void> {
    // A full disk (sampled just before: it may have ended the process) and events kept while full go first.
    await this.#outbox.flush();
    await this.#append(exitEvent(pending));
    this.opts.bus.emit("process.exit", pending.exit);
  }

  async #withSources<T>(processId: string, names: readonly StreamName[], fn: (srcs: (StreamSource | null)[]) => T[]): Promise<T[]> {
    const t = this.#tracked.get(processId);
    // A followed process that has not begun to end is live: no row lookup (catch-up reads and
    // tails of running lanes come here often).
    const live = t !== undefined && !t.ending;
    // Ended is final: a process this server saw end needs no row lookup either (a slow
    // subscriber catching up on 100 just-ended processes read their rows once per step).
    const ended = live ? false : this.#ended.has(processId) || !LIVE_STATUSES.includes((await this.#row(processId)).status);
    // Looked up again after the await: a process that ended meanwhile has closed its log.
    const log = this.#tracked.get(processId)?.log ?? null;
    return withStreamSources({ processId, paths: processPaths(this.opts.dataDir, processId), log: log?.closed ? null : log, live, ended }, names, fn);
  }

  /** Remember that a process has ended (its exit is settled), keeping the newest {@link ENDED_CACHE}. */
  #rememberEnded(processId: string, exit: Promise<ProcessExit>): void {
    this.#ended.set(processId, exit);
    if (this.#ended.size > ENDED_CACHE) this.#ended.delete(this.#ended.keys().next().value!);
  }

  async #row(processId: string): Promise<ProcessRow> {
    const row = await this.opts.db.process.findUnique({ where: { id: processId } });
    if (!row) throw new AppError("not_found", `process ${processId} not found`);
    return row;
  }

  /** Copy changed offsets of followed processes to their rows (the state file stays authoritative). */
  async #syncOffsets(list: Iterable<Tracked> = this.#tracked.values()): Promise<void> {
    const rows: OffsetRow[] = [];
    for (const t of list) {
      const s = t.log.state;
      const key = `${s.stdout.offset}:${s.stderr.offset}:${s.stdout.dropped + s.stderr.dropped}`;
      if (key === t.syncedOffsets) continue;
      t.syncedOffsets = key;
      rows.push([t.id, s.stdout.offset, s.stderr.offset, s.stdout.dropped + s.stderr.dropped]);
    }
    await syncOffsetRows(this.opts.db, rows).catch((err: unknown) => {
      void this.#disk.refused(err);
      console.error("[processes] saving log offsets failed", err);
    });
  }

  async #onTruncated(processId: string, laneId: string | null, bytes: number): Promise<void> {
    await this.opts.db.process.update({ where: { id: processId }, data: { truncatedBytes: bytes } }).catch(() => undefined);
    await this.#append({ type: "process.output_truncated", laneId, payload: { processId, bytes } });
  }

  #warn(laneId: string | null, message: string): void {
    console.warn(`[processes] ${message}`);
    void this.#append({ type: "warning", laneId, payload: { failureClass: "infra", message } });
  }

  /** Where writes wait while storage refuses them, in order with the supervisor's events (store/write-outbox.ts). */
  get writes(): EventOutbox["writes"] { return this.#outbox.writes; }
  /** Append an event, or keep it until the database takes it (event-outbox.ts). Never throws. */
  #append(event: NewLaneEvent): Promise<void> { return this.#outbox.send(event); }

  /** True while the data disk is full (disk-watch.ts): new work is refused. Samples now, so a full disk seen here is also a `disk.full` event. */
  async diskFull(): Promise<boolean> {
    await this.#disk.check();
    return this.#disk.full;
  }
}
