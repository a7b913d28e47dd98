/**
 * Following one stream of a process's output from a byte offset: the lines already in its log
 * from that offset, then the live ones, each exactly once, until the process has ended and its
 * last line is read. What `GET /api/v1/processes/:id/logs/stream` serves.
 *
 * Same scheme as the event follower: subscribe to `process.output` first, then read the log
 * (`readLog` returns only what the tailer has published, so history and live chunks meet
 * exactly); lines below the offset already delivered are dropped. A consumer that falls more
 * than `maxQueuedLines` behind reads the log again from its offset.
 */
import type { LogLine, ProcessView } from "@/lib/api";
import { decodeChunk } from "@/lib/log-chunk";
import { Wakeup } from "@/lib/wakeup";
import type { EventBus } from "../events/event-bus";
import type { StreamName } from "./log-files";
import type { ProcessSupervisor } from "./supervisor";
import type { ProcessAccess } from "./process-access";
import type { NodeRouter } from "../rpc/node-router";
import { LIVE_STATUSES } from "./views";

/** One step of a followed stream: lines with `next` (the offset to resume from), or the end. */
export type LogFollowStep = { kind: "lines"; lines: LogLine[]; next: number } | { kind: "end"; process: ProcessView; next: number };

/** The runtime's entry to {@link followProcessLog} (route handlers reach it through the runtime). */
export class ProcessLogStreams {
  constructor(private readonly deps: { supervisor: ProcessSupervisor; bus: EventBus; processes: ProcessAccess; router: Pick<NodeRouter, "processNode" | "nodeId"> }) {}

  /**
   * See {@link followProcessLog}. A process on another node (docs/scale-out.md) has no output on
   * this node's bus: its log is read page by page from its node every {@link REMOTE_POLL_MS}.
   */
  async *follow(processId: string, stream: StreamName, from: number, signal: AbortSignal): AsyncGenerator<LogFollowStep, void, undefined> {
    const owner = await this.deps.router.processNode(processId);
    if (owner === null || owner === this.deps.router.nodeId) return yield* followProcessLog(this.deps, processId, stream, from, signal);
    yield* followProcessLog({ supervisor: this.deps.processes, bus: this.deps.bus }, processId, stream, from, signal, { pollMs: REMOTE_POLL_MS });
  }

  /**
   * Check a stream can be followed from `from`, so a route answers with the right status before it starts streaming.
   * @throws AppError not_found (unknown process), range_not_satisfiable (`from` past the end)
   */
  async check(processId: string, stream: StreamName, from: number): Promise<void> {
    await this.deps.processes.readLog(processId, { stream, from, limit: 1 });
  }
}

/** How often a process on another node is read again while followed, in ms. */
export const REMOTE_POLL_MS = 500;

/**
 * Lines of `stream` from byte offset `from` (aligned forward to a line start), live until the
 * process ends or `signal` aborts.
 * @throws AppError not_found (unknown process), range_not_satisfiable (`from` past the end)
 */
export async function* followProcessLog(
  deps: { supervisor: Pick<ProcessSupervisor, "get" | "readLog">; bus: EventBus },
  processId: string,
  stream: StreamName,
  from: number,
  signal: AbortSignal,
  opts: { pageLines?: number; maxQueuedLines?: number; pollMs?: number } = {},
): AsyncGenerator<LogFollowStep, void, undefined> {
  const pageLines = opts.pageLines ?? 5000;
  const maxQueued = opts.maxQueuedLines ?? 50_000;
  let cursor = from;
  let queue: LogLine[] = [];
  /** Offset just past the last queued chunk. */
  let queueEnd = 0;
  let overflowed = false;
  let exited = false;
  const wakeup = new Wakeup(signal);
  const offOutput = deps.bus.on("process.output", (batch) => {
    if (batch.processId !== processId || overflowed) return;
    for (const chunk of batch.chunks) {
      // Decoded now: chunk bytes are only valid while listeners run.
      if (chunk.stream !== stream) continue;
      queue.push(...decodeChunk(processId, chunk));
      queueEnd = chunk.offset + chunk.data.byteLength;
    }
    if (queue.length > maxQueued) {
      overflowed = true;
      queue = [];
    }
    wakeup.notify();
  });
  const offExit = deps.bus.on("process.exit", (exit) => {
    if (exit.processId !== processId) return;
    exited = true;
    wakeup.notify();
  });
  try {
    let fromLog = true;
    while (!signal.aborted) {
      if (fromLog || overflowed) {
        queue = [];
        overflowed = false;
        const view = exited ? null : await deps.supervisor.get(processId);
        if (view && !LIVE_STATUSES.includes(view.status)) exited = true;
        const page = await deps.supervisor.readLog(processId, { stream, from: cursor, limit: pageLines });
        if (page.lines.length) yield { kind: "lines", lines: page.lines, next: page.to };
        cursor = Math.max(cursor, page.to);
        fromLog = !page.eof;
        if (page.eof && exited) {
          yield { kind: "end", process: await deps.supervisor.get(processId), next: cursor };
          return;
        }
        continue;
      }
      if (exited) {
        // Read the rest (a last line without newline is complete now) and end.
        fromLog = true;
        continue;
      }
      if (queue.length) {
        const lines = queue.filter((l) => l.offset >= cursor);
        queue = [];
        if (lines.length) {
          cursor = queueEnd;
          yield { kind: "lines", lines, next: cursor };
        }
        continue;
      }
      if (opts.pollMs === undefined) await wakeup.wait();
      else {
        // No bus events for this process here: read its log again after a while.
        const timer = setTimeout(() => wakeup.notify(), opts.pollMs);
        await wakeup.wait();
        clearTimeout(timer);
        fromLog = true;
      }
    }
  } finally {
    offOutput();
    offExit();
    wakeup.close();
  }
}
