/**
 * Bounded log retention: at most `perProcess` bytes kept per process (both streams together) and
 * `total` bytes over all processes. Over the total, whole logs of finished processes go first,
 * oldest `endedAt` first; only then are live processes trimmed, largest first.
 *
 * How bytes are dropped safely from a file a live process still appends to: the head of the file
 * is deallocated with `fallocate --punch-hole` (FALLOC_FL_PUNCH_HOLE; ext4, xfs, btrfs, tmpfs):
 * the file keeps its length and every offset stays valid, the writer's O_APPEND position is
 * untouched, and the disk blocks are freed. The drop point is always a line boundary (an index
 * entry or the published offset) recorded as `dropped` in the state file, so reads start there,
 * line numbers stay exact, and nothing that has not been published is ever dropped. Where hole
 * punching is not supported, a finished process's file is truncated to zero instead (logical
 * offsets continue through `base`); a live one keeps its bytes on disk (reported once).
 */
import { closeSync, openSync, statSync, truncateSync } from "node:fs";
import { execa } from "execa";
import { STREAMS, appendIndex, emptyStreamState, readIndex, readStateFile, writeStateFile, type ProcState, type StreamName, type StreamState } from "./log-files";
import type { ProcLog } from "./proc-log";
import type { ProcessPaths } from "./wrapper";

export interface RetentionHost {
  /** Logs of the processes being followed right now. */
  liveLogs(): Iterable<ProcLog>;
  /** Bytes were dropped from a process's logs; `totalDropped` is its new total over both streams. */
  onTruncated(processId: string, laneId: string | null, totalDropped: number): void;
  onWarning(processId: string, laneId: string | null, message: string): void;
}

interface Finished {
  processId: string;
  laneId: string | null;
  paths: ProcessPaths;
  endedAt: number;
  bytes: number;
}

/** Bytes kept (not dropped) of each stream, given its logical end. */
function keptBytes(state: ProcState, ends: Record<StreamName, number>): number {
  return STREAMS.reduce((sum, n) => sum + Math.max(0, ends[n] - state[n].dropped), 0);
}

function fileEnds(paths: ProcessPaths, state: ProcState): Record<StreamName, number> {
  const size = (file: string) => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  };
  return { stdout: state.stdout.base + size(paths.stdout), stderr: state.stderr.base + size(paths.stderr) };
}

export class Retention {
  #finished = new Map<string, Finished>();
  #running: Promise<void> | null = null;
  #punchUnsupported = false;

  constructor(
    private readonly perProcess: number,
    private readonly total: number,
    private readonly host: RetentionHost,
  ) {}

  /** Account for a process whose logs no longer grow (ended, or found ended at boot). */
  addFinished(processId: string, laneId: string | null, paths: ProcessPaths, endedAt: Date | null): void {
    const state = readStateFile(paths.state) ?? { stdout: emptyStreamState(), stderr: emptyStreamState() };
    const bytes = keptBytes(state, fileEnds(paths, state));
    this.#finished.set(processId, { processId, laneId, paths, endedAt: endedAt?.getTime() ?? 0, bytes });
  }

  forget(processId: string): void {
    this.#finished.delete(processId);
  }

  /** Apply both caps once; concurrent calls share one run. Never throws. */
  enforce(): Promise<void> {
    this.#running ??= this.#enforce()
      .catch((err: unknown) => console.error("[retention] failed", err))
      .finally(() => (this.#running = null));
    return this.#running;
  }

  async #enforce(): Promise<void> {
    const live = [...this.host.liveLogs()].map((log) => {
      const ends = { stdout: log.logicalEnd("stdout"), stderr: log.logicalEnd("stderr") };
      return { log, ends, bytes: keptBytes(log.state, ends) };
    });
    for (const l of live) {
      if (l.bytes > this.perProcess) l.bytes -= await this.#trimLive(l.log, l.ends, l.bytes - Math.floor(this.perProcess * 0.75));
    }
    for (const f of this.#finished.values()) {
      if (f.bytes > this.perProcess) f.bytes -= await this.#trimFinished(f, this.perProcess);
    }
    let sum = live.reduce((s, l) => s + l.bytes, 0) + [...this.#finished.values()].reduce((s, f) => s + f.bytes, 0);
    if (sum <= this.total) return;
    const target = Math.floor(this.total * 0.9);
    for (const f of [...this.#finished.values()].sort((a, b) => a.endedAt - b.endedAt)) {
      if (sum <= target) return;
      sum -= await this.#trimFinished(f, 0);
    }
    for (const l of live.sort((a, b) => b.bytes - a.bytes)) {
      if (sum <= target) return;
      sum -= await this.#trimLive(l.log, l.ends, Math.max(sum - target, Math.floor(l.bytes / 2)));
    }
  }

  /** Drop about `want` bytes from the heads of a live process's streams; returns bytes dropped. */
  async #trimLive(log: ProcLog, ends: Record<StreamName, number>, want: number): Promise<number> {
    let dropped = 0;
    // Take from the larger stream first.
    for (const name of [...STREAMS].sort((a, b) => (ends[b] - log.state[b].dropped) - (ends[a] - log.state[a].dropped))) {
      if (dropped >= want || log.closed) break;
      const st = log.state[name];
      const idxFile = name === "stdout" ? log.paths.stdoutIdx : log.paths.stderrIdx;
      // Never beyond what has been published: unpublished bytes are not ours to drop.
      const cut = chooseCut(readIndex(idxFile), st, st.dropped + (want - dropped));
      if (cut.offset <= st.dropped) continue;
      const before = st.dropped;
      if (!log.recordDrop(name, cut)) break;
      dropped += cut.offset - before;
      await this.#free(log.processId, log.laneId, log.paths, name, st, false);
    }
    if (dropped > 0) this.host.onTruncated(log.processId, log.laneId, log.state.stdout.dropped + log.state.stderr.dropped);
    return dropped;
  }

  /** Keep at most `keep` bytes of a finished process (0 = drop everything); returns bytes dropped. */
  async #trimFinished(f: Finished, keep: number): Promise<number> {
    const state = readStateFile(f.paths.state);
    if (!state) return 0;
    const ends = fileEnds(f.paths, state);
    let over = keptBytes(state, ends) - keep;
    let dropped = 0;
    for (const name of STREAMS) {
      if (over <= 0) break;
      const st = state[name];
      // Dropping a whole finished stream cuts at its end (its line count is what was published);
      // a partial drop cuts at a known line boundary (index entry).
      const idxFile = name === "stdout" ? f.paths.stdoutIdx : f.paths.stderrIdx;
      const cut = keep === 0 || st.dropped + over >= ends[name]
        ? { offset: ends[name], line: st.line }
        : chooseCut(readIndex(idxFile), st, st.dropped + over);
      if (cut.offset <= st.dropped) continue;
      dropped += cut.offset - st.dropped;
      over -= cut.offset - st.dropped;
      if (cut.offset > st.offset) Object.assign(st, { offset: cut.offset, line: cut.line });
      st.dropped = cut.offset;
      const idxFd = tryOpen(idxFile, "a");
      if (idxFd !== null) {
        try {
          appendIndex(idxFd, { offset: cut.offset, line: cut.line, ts: Date.now() });
        } catch {
          // the index only refines timestamps and line lookups; the drop itself is in the state
        } finally {
          closeSync(idxFd);
        }
      }
      await this.#free(f.processId, f.laneId, f.paths, name, st, true);
    }
    if (dropped > 0) {
      const fd = tryOpen(f.paths.state, "r+");
      if (fd !== null) {
        writeStateFile(fd, state);
        closeSync(fd);
      }
      f.bytes = keptBytes(state, fileEnds(f.paths, state));
      this.host.onTruncated(f.processId, f.laneId, state.stdout.dropped + state.stderr.dropped);
    }
    return dropped;
  }

  /** Free the disk blocks below a stream's (already recorded) drop point. */
  async #free(processId: string, laneId: string | null, paths: ProcessPaths, name: StreamName, st: StreamState, finished: boolean): Promise<void> {
    const file = name === "stdout" ? paths.stdout : paths.stderr;
    const phys = Math.floor((st.dropped - st.base) / 4096) * 4096;
    if (!this.#punchUnsupported && phys > 0) {
      const res = await execa("fallocate", ["--punch-hole", "--offset", "0", "--length", String(phys), "--", file], { reject: false });
      if (res.exitCode === 0) return;
      if (/not supported/i.test(res.stderr)) this.#punchUnsupported = true;
    }
    if (finished && st.dropped - st.base >= statSizeOr0(file)) {
      // Finished and dropped to the end: truncating loses nothing and frees the space.
      truncateSync(file, 0);
      st.base = st.dropped;
    } else if (phys > 0) {
      this.host.onWarning(processId, laneId, `cannot free disk space of ${name}.log of process ${processId} (hole punching unsupported or failed); its dropped bytes stay on disk`);
    }
  }
}

/**
 * Where to cut a stream that should drop up to `target`: the first line boundary at or after
 * `target` that is known (index entry) and published, else the published offset itself.
 */
function chooseCut(idx: { offset: number; line: number }[], st: StreamState, target: number): { offset: number; line: number } {
  for (const e of idx) {
    if (e.offset >= target && e.offset <= st.offset && e.offset > st.dropped) return { offset: e.offset, line: e.line };
  }
  return { offset: st.offset, line: st.line };
}

function tryOpen(file: string, flags: string): number | null {
  try {
    return openSync(file, flags);
  } catch {
    return null;
  }
}

function statSizeOr0(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
