/**
 * The runtime's typed in-process event bus. Domain modules emit here and never touch Socket.IO;
 * `server/realtime` subscribes and forwards to rooms (house style §2).
 *
 * Listeners run synchronously in emit order; a listener that throws is logged and does not stop
 * the others or the emitter.
 *
 * Besides events the bus carries **requests** ({@link BusRequests}): commands that exactly one
 * service answers and the asker awaits. They connect services that call each other without
 * either being built before the other or importing the other: the scheduler asks for
 * `lane.start` and the lane runner answers; recovery and the worker service ask for
 * `lane.restart` and the lane service answers. The runtime registers the handlers.
 */
import type { LaneEvent } from "@/lib/lane-events";
import type { FailureClass } from "@/lib/lane-state";
import type { OutputChunk } from "@/lib/log-chunk";

export interface ProcessExit {
  processId: string;
  laneId: string | null;
  role: string;
  /** Final status: exited (by itself), killed (we killed it), lost (vanished without a status). */
  status: "exited" | "killed" | "lost" | "spawn_failed";
  exitCode: number | null;
  signal: string | null;
  /** The wrapper itself was killed (it left no exit status); what it ran was then stopped. */
  wrapperDied?: boolean;
  /** Processes it started that still ran after the wrapper ended, stopped by the supervisor. */
  leftovers?: number;
  /** A SIGKILL the OOM killer sent, with the evidence (cgroup counter or kernel log); absent: no such evidence. */
  oomKilled?: string;
}

export interface ProcessOutput {
  laneId: string | null;
  processId: string;
  role: string;
  chunks: OutputChunk[];
}

/**
 * A partial last line of a process stream (output with no newline yet) that has stayed unchanged
 * for a while: for viewers only. It is not a line: when a newline completes it, the line (starting
 * at the same `offset`) is published by `process.output` as usual.
 */
export interface ProcessPartial {
  laneId: string | null;
  processId: string;
  stream: "stdout" | "stderr";
  /** Logical offset of its first byte (where the completed line will start). */
  offset: number;
  /** Its bytes so far. */
  data: Buffer;
}

export interface BusEvents {
  /** A lane event that has been persisted (it has its cursor id). */
  "lane.event": LaneEvent;
  /**
   * New output of one process: chunks of whole lines in file order per stream (decode with
   * `decodeChunk` from lib/log-chunk.ts). `role` is the process's supervisor role. Chunk `data`
   * is a view of the log tailer's read buffer, valid only while listeners run (the emit is
   * synchronous): a listener decodes or copies what it needs before it returns.
   */
  "process.output": ProcessOutput;
  "process.partial": ProcessPartial;
  /** A process has ended and its exit is persisted. */
  "process.exit": ProcessExit;
  /**
   * A row a lane's view is built from was written with no lane event after it (a worker's usage
   * report held back by the activity throttle): the lane read model re-reads the lane.
   */
  "lane.touched": { laneId: string };
}

/** Lane lifecycle commands, answered by server/lanes (the runner or the lane service). */
export interface BusRequests {
  /** Start a queued lane (guarded `queued → starting`); false if it was no longer queued. */
  "lane.start": { args: { laneId: string }; result: boolean };
  /** Fail a live lane with `failureClass` and stop its worker; nothing for a lane that is not live. */
  "lane.stop": { args: { laneId: string; failureClass: FailureClass; reason: string }; result: void };
  /** Re-queue an ended lane in its worktree (a new attempt); AppError as LaneService.restart. */
  "lane.restart": { args: { laneId: string; by: string }; result: unknown };
  /** Kill a lane; AppError as LaneService.kill. */
  "lane.kill": { args: { laneId: string; graceMs?: number; by?: string }; result: unknown };
}

type Listener<K extends keyof BusEvents> = (payload: BusEvents[K]) => void;
type Handler<K extends keyof BusRequests> = (args: BusRequests[K]["args"]) => Promise<BusRequests[K]["result"]>;

export class EventBus {
  // Keyed by event type; the public methods keep listener and payload types paired.
  readonly #listeners = new Map<keyof BusEvents, Set<(payload: never) => void>>();
  readonly #handlers = new Map<keyof BusRequests, (args: never) => Promise<unknown>>();

  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof BusEvents>(type: K, listener: Listener<K>): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    const entry = listener as (payload: never) => void;
    set.add(entry);
    return () => set.delete(entry);
  }

  emit<K extends keyof BusEvents>(type: K, payload: BusEvents[K]): void {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<K>)(payload);
      } catch (err) {
        console.error(`[bus] listener for ${type} threw`, err);
      }
    }
  }

  listenerCount(type: keyof BusEvents): number {
    return this.#listeners.get(type)?.size ?? 0;
  }

  /**
   * Answer the requests of one type; returns the function that removes the handler.
   * @throws Error when the type already has a handler (a request has exactly one answerer).
   */
  handle<K extends keyof BusRequests>(type: K, handler: Handler<K>): () => void {
    if (this.#handlers.has(type)) throw new Error(`the bus request ${type} already has a handler`);
    const entry = handler as (args: never) => Promise<unknown>;
    this.#handlers.set(type, entry);
    return () => {
      if (this.#handlers.get(type) === entry) this.#handlers.delete(type);
    };
  }

  /**
   * Ask the handler of `type`; resolves or rejects as the handler does.
   * @throws (rejects) Error when no handler is registered.
   */
  request<K extends keyof BusRequests>(type: K, args: BusRequests[K]["args"]): Promise<BusRequests[K]["result"]> {
    const handler = this.#handlers.get(type) as Handler<K> | undefined;
    if (!handler) return Promise.reject(new Error(`no handler for the bus request ${type}`));
    return handler(args);
  }
}
