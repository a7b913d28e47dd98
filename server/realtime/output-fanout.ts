/**
 * Live process output to Socket.IO subscribers, with flow control per subscriber.
 *
 * Packing: the chunks one log flush publishes (bus `process.output`, all processes, in one
 * synchronous tailer flush; sent from a microtask right after it, so packing costs no extra
 * event-loop turn) go to each subscriber as few `process:output` messages as possible, each one
 * JSON header plus one binary attachment of at most {@link FanoutOptions.messageBytes}
 * (lib/log-chunk.ts `PackedOutput`). A client watching many busy lanes pays per flush, not per
 * process or per line.
 *
 * Memory: chunk bytes on the bus are views of the tailer's read buffer, valid only during the
 * emit, so each subscriber's messages are built by copying them into {@link SlabPool} slabs,
 * which are reused once every message in them has been written to the socket. Fresh memory for
 * every megabyte of output cost page faults (measured in this VM: ~800 µs per MiB fresh against
 * ~60 µs reused). When a message is written comes from engine.io's contract: its socket hands
 * its whole write buffer to the transport (`flush` event) only while the transport is writable,
 * i.e. after everything handed over before has been written; so at each `flush`, the messages
 * handed over at the previous one are written and their slabs can be released.
 *
 * Flow control: output bytes handed to a socket but still in engine.io's write buffer (which
 * fills while the client is not reading) are counted. Above `maxQueuedBytes` the subscriber is
 * *behind*: live output is no longer pushed to it; instead the fanout remembers, per process and
 * stream, the byte range it has not received, and each time its write buffer is handed to the
 * transport (engine.io `drain`) it reads the next `stepBytes` of whole lines of those ranges back
 * from the log files, into one slab, and sends them. So a slow subscriber costs one in-flight
 * message of memory, receives every line in order without duplicates, and returns to live output
 * once caught up. Only what cannot be caught up is skipped, with a `process:dropped { count }`
 * notice before the next output: a range that grows past `maxLagBytes` (the subscriber is
 * hopelessly slow: it skips to the newest output), or bytes retention already deleted from the file.
 */
import type { Server, Socket } from "socket.io";
import { DEFAULT_MAX_LINE_BYTES, type PackedChunk, type PackedOutput, type OutputStream } from "@/lib/log-chunk";
import { laneRoom, type ClientToServerEvents, type ServerToClientEvents } from "@/lib/socket-events";
import type { ProcessOutput } from "../events/event-bus";
import { SlabPool, type Slab } from "./slab-pool";

export { SlabPool, type Slab } from "./slab-pool";

type Batch = Pick<ProcessOutput, "laneId" | "processId" | "chunks">;

type LaneSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** Reads whole lines back from a process's log (ProcessSupervisor.readChunk). */
export interface CatchUpReader {
  /**
   * Whole lines of one run (`seq`) starting at logical offset `from` (a line or piece start), ending at most at
   * `to`, read into `into` (at most its length; `data` is a view of it); null when the bytes are
   * gone (retention, truncation). `into` holds at least `min(to - from, DEFAULT_MAX_LINE_BYTES + 2)`.
   */
  readChunk(processId: string, stream: OutputStream, from: number, to: number, into: Buffer): Promise<{ offset: number; lines: number; seq: number; data: Buffer } | null>;
}

export interface FanoutOptions {
  /** Bytes per message before a new one is started (default 1 MiB). */
  messageBytes?: number;
  /** Queued bytes per subscriber above which it is behind (default 8 MiB). */
  maxQueuedBytes?: number;
  /** Unreceived bytes per process stream above which a behind subscriber skips ahead (default 256 MiB). */
  maxLagBytes?: number;
  /** Bytes read back per catch-up step (default 1 MiB; at least one maximal line is read). */
  stepBytes?: number;
  /** Free slabs kept for reuse (default 4); more are left to the garbage collector. */
  keepFreeSlabs?: number;
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

interface Message {
  items: PackedChunk[];
  /** Where the attachment lives: a slab range, or (for a chunk larger than a slab) its own copy. */
  slab: Slab | null;
  data: Buffer;
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
  /** The slab live output for this subscriber is copied into (one reference held). */
  slab: Slab | null;
  /** The message being built at the end of `slab`: its items and where its bytes start. */
  open: { items: PackedChunk[]; start: number; bytes: number } | null;
  /** Messages built, to be emitted at the next flush. */
  ready: Message[];
  /** Bytes in `open` and `ready`. */
  building: number;
  /** Slabs of messages in engine.io's write buffer, and of those handed to the transport at its last flush. */
  queuedSlabs: Slab[];
  handedSlabs: Slab[];
  /** Lanes whose output may be held up to so many ms (lane:subscribe `everyMs`), and the timer that sends what is held. */
  paced: Map<string, number>;
  pacer: NodeJS.Timeout | null;
}

const writeBufferLength = (socket: LaneSocket) => (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;

export class OutputFanout {
  #subs = new Map<string, Subscriber>();
  /** Subscribers with messages to emit at the next flush. */
  #toFlush = new Set<Subscriber>();
  #scheduled = false;
  readonly #messageBytes: number;
  readonly #maxQueued: number;
  readonly #maxLag: number;
  readonly #step: number;
  readonly pool: SlabPool;

  constructor(
    private readonly io: Server<ClientToServerEvents, ServerToClientEvents>,
    private readonly reader: CatchUpReader,
    opts: FanoutOptions = {},
  ) {
    this.#messageBytes = opts.messageBytes ?? 1024 * 1024;
    this.#maxQueued = opts.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.#maxLag = opts.maxLagBytes ?? 256 * 1024 * 1024;
    // A catch-up step always has room for one maximal line or piece.
    this.#step = Math.max(opts.stepBytes ?? 1024 * 1024, DEFAULT_MAX_LINE_BYTES + 2);
    this.pool = new SlabPool(Math.max(this.#messageBytes, this.#step), opts.keepFreeSlabs ?? 4);
  }

  /** Track a connected socket (before it can join lane rooms). */
  add(socket: LaneSocket): void {
    const sub: Subscriber = {
      socket, queued: 0, lag: null, busy: false, dropped: new Map(), slab: null, open: null, ready: [], building: 0, queuedSlabs: [], handedSlabs: [], paced: new Map(), pacer: null,
    };
    this.#subs.set(socket.id, sub);
    // engine.io: "flush" = the write buffer goes to the transport, which happens only once the
    // transport has written everything handed to it before; "drain" = it has been handed over.
    socket.conn.on("flush", () => {
      sub.queued = 0;
      for (const slab of sub.handedSlabs) this.pool.release(slab);
      sub.handedSlabs = sub.queuedSlabs;
      sub.queuedSlabs = [];
    });
    socket.conn.on("drain", () => {
      if (sub.lag && !sub.busy) void this.#catchUp(sub);
      else this.#reportDropped(sub);
    });
  }

  /** Whether a socket is behind (not sent live output; it is catching up from the log files). */
  isBehind(socketId: string): boolean {
    return this.#subs.get(socketId)?.lag != null;
  }

  /**
   * How long a socket's live output of one lane may be held to go with more (0: sent from the
   * microtask after the flush that read it). Held output leaves at the latest `everyMs` after the
   * first of it, or earlier with anything else the socket is sent; order and flow control are
   * the same either way (it is built into the same messages).
   */
  pace(socketId: string, laneId: string, everyMs: number): void {
    const sub = this.#subs.get(socketId);
    if (!sub) return;
    if (everyMs > 0) sub.paced.set(laneId, everyMs);
    else sub.paced.delete(laneId);
  }

  /** Forget a socket. Its slabs are left to the garbage collector (the transport may still hold them). */
  remove(socketId: string): void {
    const sub = this.#subs.get(socketId);
    this.#subs.delete(socketId);
    if (!sub) return;
    this.#toFlush.delete(sub);
    if (sub.pacer) clearTimeout(sub.pacer);
  }

  /** Counters since start (diagnostics and tests): bytes sent live, bytes sent by catching up, lines skipped. */
  readonly stats = { liveBytes: 0, catchUpBytes: 0, droppedLines: 0 };

  /** Bus listener for `process.output`: copies the chunks into each subscriber's next message (synchronously: the bytes are only valid now). */
  publish = (batch: ProcessOutput): void => {
    const laneId = batch.laneId;
    const room = laneId ? this.io.sockets.adapter.rooms.get(laneRoom(laneId)) : undefined;
    if (!laneId || !room) return;
    let bytes = 0;
    for (const c of batch.chunks) bytes += c.data.length;
    for (const socketId of room) {
      const sub = this.#subs.get(socketId);
      if (!sub) continue;
      if (sub.lag || sub.queued + sub.building + bytes > this.#maxQueued) {
        // Falling behind now: everything built so far goes out first, so the lines stay in order.
        if (!sub.lag) this.#emitBuilt(sub);
        this.#fallBehind(sub, batch);
        continue;
      }
      for (const c of batch.chunks) this.#append(sub, laneId, batch.processId, c);
      const every = sub.paced.get(laneId);
      if (every === undefined) this.#toFlush.add(sub);
      else sub.pacer ??= setTimeout(() => this.#sendHeld(sub), every);
    }
    if (!this.#scheduled && this.#toFlush.size) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  };

  #flush = (): void => {
    this.#scheduled = false;
    const subs = [...this.#toFlush];
    this.#toFlush.clear();
    for (const sub of subs) this.#emitBuilt(sub);
  };

  /** Copy one chunk into `sub`'s open message (starting a new message or slab as needed). */
  #append(sub: Subscriber, laneId: string, processId: string, chunk: ProcessOutput["chunks"][number]): void {
    const { data, ...rest } = chunk;
    const n = data.length;
    if (sub.open && sub.open.bytes + n > this.#messageBytes) this.#finish(sub);
    let slab = sub.slab;
    if (!slab || slab.buf.length - slab.used < n) {
      this.#finish(sub);
      if (n > this.pool.slabBytes) {
        // Larger than any slab (not produced by the tailer's reads): a message of its own.
        sub.ready.push({ items: [{ laneId, processId, ...rest, length: n }], slab: null, data: Buffer.from(data) });
        sub.building += n;
        return;
      }
      if (slab) this.pool.release(slab);
      slab = sub.slab = this.pool.take();
    }
    sub.open ??= { items: [], start: slab.used, bytes: 0 };
    slab.buf.set(data, slab.used);
    slab.used += n;
    sub.open.items.push({ laneId, processId, ...rest, length: n });
    sub.open.bytes += n;
    sub.building += n;
  }

  /** Close the open message: it is ready to emit and holds a reference to its slab. */
  #finish(sub: Subscriber): void {
    const open = sub.open;
    if (!open) return;
    sub.open = null;
    const slab = sub.slab!;
    slab.refs++;
    sub.ready.push({ items: open.items, slab, data: slab.buf.subarray(open.start, open.start + open.bytes) });
  }

  /** The pacer's turn: send what was held for `sub` (unless it is gone or behind: then it is sent, or caught up, otherwise). */
  #sendHeld(sub: Subscriber): void {
    sub.pacer = null;
    if (this.#subs.get(sub.socket.id) === sub && !sub.lag) this.#emitBuilt(sub);
  }

  /** Emit every message built for `sub`. */
  #emitBuilt(sub: Subscriber): void {
    if (sub.pacer) {
      // What was held goes now with the rest: the pacer's next turn starts with the next held output.
      clearTimeout(sub.pacer);
      sub.pacer = null;
    }
    this.#finish(sub);
    const ready = sub.ready;
    sub.ready = [];
    sub.building = 0;
    for (const m of ready) {
      this.stats.liveBytes += m.data.length;
      this.#emit(sub, m);
    }
  }

  #emit(sub: Subscriber, m: Message): void {
    this.#reportDropped(sub);
    sub.queued += m.data.length;
    // Recorded before the emit: a writable transport takes the message (the "flush" event) at once.
    if (m.slab) sub.queuedSlabs.push(m.slab);
    const out: PackedOutput = { items: m.items, data: m.data };
    sub.socket.emit("process:output", out);
  }

  /** Record a batch as not received; start catching up if nothing else will trigger it. */
  #fallBehind(sub: Subscriber, b: Batch): void {
    const lag = (sub.lag ??= new Map());
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
    if (!sub.busy && writeBufferLength(sub.socket) === 0) void this.#catchUp(sub);
  }

  /** Send the next `stepBytes` of the ranges `sub` has not received, read into one slab; the `drain` after it sends the next. */
  async #catchUp(sub: Subscriber): Promise<void> {
    sub.busy = true;
    const slab = this.pool.take();
    const items: PackedChunk[] = [];
    try {
      let full = false;
      for (const [key, e] of sub.lag ?? []) {
        // One read per run: a range spans several when the process alternated streams.
        while (!full && sub.lag?.get(key) === e) {
          const room = this.#step - slab.used;
          // The next range must fit at least one maximal line (or be smaller): else the next step.
          if (room < Math.min(e.to - e.from, DEFAULT_MAX_LINE_BYTES + 2)) full = true;
          else if (!(await this.#readLagged(sub, key, e, slab, items))) break;
        }
        if (full) break;
      }
    } finally {
      sub.busy = false;
    }
    if (!this.#subs.has(sub.socket.id)) return;
    if (sub.lag?.size === 0) sub.lag = null; // caught up: live output resumes with the next flush
    this.stats.catchUpBytes += slab.used;
    if (items.length) return this.#emit(sub, { items, slab, data: slab.buf.subarray(0, slab.used) });
    this.pool.release(slab);
    if (sub.lag) setImmediate(() => void this.#catchUp(sub));
    else this.#reportDropped(sub);
  }

  /**
   * Read the next run of a lagged range into `slab` and list it in `items`.
   * @returns false when nothing more comes of this range in this step (stale or gone)
   */
  async #readLagged(sub: Subscriber, key: string, e: Lag, slab: Slab, items: PackedChunk[]): Promise<boolean> {
    const from = e.from;
    const run = await this.reader.readChunk(e.processId, e.stream, from, e.to, slab.buf.subarray(slab.used, this.#step)).catch(() => null);
    // Output published during the read may have skipped this range ahead (maxLagBytes), and
    // counted what was read as dropped: then the bytes read are stale.
    if (sub.lag?.get(key) !== e || e.from !== from) return false;
    if (!run || run.data.length === 0) {
      this.#drop(sub, e.laneId, e.processId, e.lines);
      sub.lag?.delete(key);
      return false;
    }
    items.push({ laneId: e.laneId, processId: e.processId, stream: e.stream, offset: run.offset, lines: run.lines, seq: run.seq, ts: Date.now(), length: run.data.length });
    slab.used += run.data.length;
    e.from = run.offset + run.data.length;
    e.lines -= run.lines;
    if (e.from >= e.to) sub.lag?.delete(key);
    return true;
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
