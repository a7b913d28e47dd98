/**
 * Live process output to Socket.IO subscribers, with flow control per subscriber.
 *
 * Packing: everything one log flush publishes (bus `process.output`, all processes, collected
 * until `setImmediate`) goes to each subscriber as few `process:output` messages as possible,
 * each one JSON header plus one binary attachment of at most {@link FanoutOptions.messageBytes}
 * (lib/log-chunk.ts `PackedOutput`). A client watching many busy lanes pays per flush, not per
 * process or per line.
 *
 * Flow control: output bytes handed to a socket but still in engine.io's write buffer (which
 * fills while the client is not reading) are counted. Above `maxQueuedBytes` the subscriber is
 * *behind*: live output is no longer pushed to it; instead the fanout remembers, per process and
 * stream, the byte range it has not received, and each time its write buffer is handed to the
 * transport (engine.io `drain`) it reads the next `stepBytes` of whole lines of those ranges back
 * from the log files and sends them. So a slow subscriber costs one in-flight message of memory,
 * receives every line in order without duplicates, and returns to live output once caught up.
 * Only what cannot be caught up is skipped, with a `process:dropped { count }` notice before the
 * next output: a range that grows past `maxLagBytes` (the subscriber is hopelessly slow: it
 * skips to the newest output), or bytes retention already deleted from the file.
 */
import type { Server, Socket } from "socket.io";
import type { PackedChunk, PackedOutput, OutputStream } from "@/lib/log-chunk";
import { laneRoom, type ClientToServerEvents, type ServerToClientEvents } from "@/lib/socket-events";
import type { ProcessOutput } from "../events/event-bus";

type LaneSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** Reads whole lines back from a process's log (ProcessSupervisor.readChunk). */
export interface CatchUpReader {
  /**
   * Whole lines starting at logical offset `from` (a line or piece start), ending at most at
   * `to` and reading at most `maxBytes`; null when the bytes are gone (retention, truncation).
   */
  readChunk(processId: string, stream: OutputStream, from: number, to: number, maxBytes: number): Promise<{ offset: number; lines: number; data: Buffer } | null>;
}

export interface FanoutOptions {
  /** Bytes per message before a new one is started (default 1 MiB). */
  messageBytes?: number;
  /** Queued bytes per subscriber above which it is behind (default 8 MiB). */
  maxQueuedBytes?: number;
  /** Unreceived bytes per process stream above which a behind subscriber skips ahead (default 256 MiB). */
  maxLagBytes?: number;
  /** Bytes read back per catch-up step (default 1 MiB). */
  stepBytes?: number;
}

interface Lag {
  laneId: string;
  processId: string;
  stream: OutputStream;
  /** Logical range of the stream the subscriber has not received. */
  from: number;
  to: number;
  lines: number;
}

interface Subscriber {
  socket: LaneSocket;
  /** Output bytes emitted since the write buffer was last handed to the transport. */
  queued: number;
  /** Set while behind: ranges not yet received, by `processId/stream`. */
  lag: Map<string, Lag> | null;
  /** A catch-up step is reading. */
  busy: boolean;
  /** Lines skipped per process, announced before the next output. */
  dropped: Map<string, { laneId: string; count: number }>;
}

const writeBufferLength = (socket: LaneSocket) => (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;

/** Pack output batches into one `process:output` message (items in order, one attachment). */
export function packOutput(batches: readonly Pick<ProcessOutput, "laneId" | "processId" | "chunks">[]): PackedOutput {
  const items: PackedChunk[] = [];
  const parts: Uint8Array[] = [];
  for (const { laneId, processId, chunks } of batches) {
    for (const { data, ...rest } of chunks) {
      items.push({ laneId: laneId!, processId, ...rest, length: data.length });
      parts.push(data);
    }
  }
  return { items, data: joinAdjacent(parts) };
}

/** The parts as one buffer: a view when they are adjacent in one backing store (slab chunks of one flush), else a copy. */
function joinAdjacent(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0];
  if (!first) return Buffer.alloc(0);
  let end = first.byteOffset + first.length;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.buffer !== first.buffer || p.byteOffset !== end) return Buffer.concat(parts);
    end += p.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}

type Batch = Pick<ProcessOutput, "laneId" | "processId" | "chunks">;

const batchBytes = (b: Batch) => b.chunks.reduce((n, c) => n + c.data.length, 0);

export class OutputFanout {
  #subs = new Map<string, Subscriber>();
  #pending: ProcessOutput[] = [];
  #scheduled = false;
  readonly #messageBytes: number;
  readonly #maxQueued: number;
  readonly #maxLag: number;
  readonly #step: number;

  constructor(
    private readonly io: Server<ClientToServerEvents, ServerToClientEvents>,
    private readonly reader: CatchUpReader,
    opts: FanoutOptions = {},
  ) {
    this.#messageBytes = opts.messageBytes ?? 1024 * 1024;
    this.#maxQueued = opts.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.#maxLag = opts.maxLagBytes ?? 256 * 1024 * 1024;
    this.#step = opts.stepBytes ?? 1024 * 1024;
  }

  /** Track a connected socket (before it can join lane rooms). */
  add(socket: LaneSocket): void {
    const sub: Subscriber = { socket, queued: 0, lag: null, busy: false, dropped: new Map() };
    this.#subs.set(socket.id, sub);
    // engine.io: "flush" = the write buffer goes to the transport; "drain" = it has been handed over.
    socket.conn.on("flush", () => (sub.queued = 0));
    socket.conn.on("drain", () => {
      if (sub.lag && !sub.busy) void this.#catchUp(sub);
      else this.#reportDropped(sub);
    });
  }

  remove(socketId: string): void {
    this.#subs.delete(socketId);
  }

  /** Bus listener for `process.output`. */
  publish = (batch: ProcessOutput): void => {
    if (!batch.laneId || !this.io.sockets.adapter.rooms.has(laneRoom(batch.laneId))) return;
    this.#pending.push(batch);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  };

  /** Counters since start (diagnostics and tests): bytes sent live, bytes sent by catching up, lines skipped. */
  readonly stats = { liveBytes: 0, catchUpBytes: 0, droppedLines: 0 };

  #flush = (): void => {
    this.#scheduled = false;
    const batches = this.#pending;
    this.#pending = [];
    const perSocket = new Map<string, ProcessOutput[]>();
    for (const b of batches) {
      for (const socketId of this.io.sockets.adapter.rooms.get(laneRoom(b.laneId!)) ?? []) {
        const list = perSocket.get(socketId);
        if (list) list.push(b);
        else perSocket.set(socketId, [b]);
      }
    }
    for (const [socketId, list] of perSocket) {
      const sub = this.#subs.get(socketId);
      if (sub) this.#deliver(sub, list);
    }
  };

  #deliver(sub: Subscriber, list: Batch[]): void {
    if (sub.lag) return this.#fallBehind(sub, list);
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < list.length; i++) {
      bytes += batchBytes(list[i]!);
      if (bytes < this.#messageBytes && i < list.length - 1) continue;
      if (sub.queued + bytes > this.#maxQueued) return this.#fallBehind(sub, list.slice(start));
      this.stats.liveBytes += bytes;
      this.#emit(sub, list.slice(start, i + 1), bytes);
      start = i + 1;
      bytes = 0;
    }
  }

  #emit(sub: Subscriber, list: Batch[], bytes: number): void {
    this.#reportDropped(sub);
    sub.queued += bytes;
    sub.socket.emit("process:output", packOutput(list));
  }

  /** Record `list` as not received; start catching up if nothing else will trigger it. */
  #fallBehind(sub: Subscriber, list: Batch[]): void {
    const lag = (sub.lag ??= new Map());
    for (const b of list) {
      for (const c of b.chunks) {
        const key = `${b.processId}/${c.stream}`;
        const end = c.offset + c.data.length;
        const e = lag.get(key);
        if (!e) {
          lag.set(key, { laneId: b.laneId!, processId: b.processId, stream: c.stream, from: c.offset, to: end, lines: c.lines });
          continue;
        }
        e.to = end;
        e.lines += c.lines;
        if (e.to - e.from > this.#maxLag) {
          // Hopelessly behind on this stream: skip to this chunk.
          this.#drop(sub, e.laneId, e.processId, e.lines - c.lines);
          e.from = c.offset;
          e.lines = c.lines;
        }
      }
    }
    if (!sub.busy && writeBufferLength(sub.socket) === 0) void this.#catchUp(sub);
  }

  /** Send the next `stepBytes` of the ranges `sub` has not received; the `drain` after it sends the next. */
  async #catchUp(sub: Subscriber): Promise<void> {
    sub.busy = true;
    const message: Batch[] = [];
    let bytes = 0;
    try {
      for (const [key, e] of sub.lag ?? []) {
        if (bytes >= this.#step) break;
        const run = await this.reader.readChunk(e.processId, e.stream, e.from, e.to, this.#step - bytes).catch(() => null);
        if (!run || run.data.length === 0) {
          this.#drop(sub, e.laneId, e.processId, e.lines);
          sub.lag?.delete(key);
          continue;
        }
        message.push({ laneId: e.laneId, processId: e.processId, chunks: [{ stream: e.stream, offset: run.offset, lines: run.lines, ts: Date.now(), data: run.data }] });
        bytes += run.data.length;
        e.from = run.offset + run.data.length;
        e.lines -= run.lines;
        if (e.from >= e.to) sub.lag?.delete(key);
      }
    } finally {
      sub.busy = false;
    }
    if (!this.#subs.has(sub.socket.id)) return;
    if (sub.lag?.size === 0) sub.lag = null; // caught up: live output resumes with the next flush
    this.stats.catchUpBytes += bytes;
    if (message.length) this.#emit(sub, message, bytes);
    else if (sub.lag) setImmediate(() => void this.#catchUp(sub));
    else this.#reportDropped(sub);
  }

  #drop(sub: Subscriber, laneId: string, processId: string, count: number): void {
    if (count <= 0) return;
    this.stats.droppedLines += count;
    const entry = sub.dropped.get(processId) ?? { laneId, count: 0 };
    entry.count += count;
    sub.dropped.set(processId, entry);
  }

  #reportDropped(sub: Subscriber): void {
    if (!sub.dropped.size) return;
    const list = [...sub.dropped];
    sub.dropped.clear();
    for (const [processId, d] of list) sub.socket.emit("process:dropped", { laneId: d.laneId, processId, count: d.count });
  }
}
