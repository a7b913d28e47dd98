/**
 * The browser's one Socket.IO connection and what it does to React Query's cache
 * (TkDodo: "the socket says *that* something changed; React Query owns the data").
 *
 * - `lane:event` → patch the cached board (with the other events of the same
 *   {@link BOARD_PATCH_MS}) / lane / event list with the event's delta (lane-patch.ts), remember
 *   the cursor (the newest event id seen), and refresh what the events
 *   touched through a trailing batcher, so a burst of events costs one request: the touched lanes
 *   only (`GET /api/v1/lanes?ids=`, merged into the cached board), or the whole board when a
 *   board-wide event came (a repo, the scheduler's caps), when too many lanes were touched, or
 *   while lanes are queued (every start moves their places). Events that change nothing on the
 *   board (policy, tokens, disk) refresh nothing. At 1,000 lanes the board is megabytes of JSON,
 *   and refetching it a few times a second kept the browser's main thread busy.
 * - on every (re)connect → fetch `GET /api/v1/events?after=<cursor>` page by page, apply those
 *   events the same way, then invalidate every lane query: nothing missed while disconnected
 *   stays missed. Lane subscriptions are renewed (Socket.IO forgets rooms on reconnect).
 * - `process:output` (chunks of whole lines, decoded here into lines) / `process:partial` / `process:dropped` →
 *   handlers registered with {@link RealtimeClient.subscribeLane}
 *   (ref-counted per lane: the server is told `lane:unsubscribe` only when the last one leaves).
 *
 * Every incoming payload is `safeParse`d against the catalog in lib/socket-events.ts; a payload
 * that does not parse is logged and dropped.
 */
import type { QueryClient } from "@tanstack/react-query";
import { io, type Socket } from "socket.io-client";
import type { z } from "zod";
import { MAX_LANE_IDS, type BoardResponse, type EventsResponse, type LaneView, type LogLine } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";
import { decodeChunk, unpackOutput } from "@/lib/log-chunk";
import { ServerToClient, SubscribeAckSchema, type ClientToServerEvents, type ServerToClientEvents } from "@/lib/socket-events";
import { api } from "./api-client";
import { createBatcher, type Batcher } from "./batch";
import { appendLaneEvent, applyBoardEvents, applyLaneEvent, mergeLanes } from "./lane-patch";
import { laneKeys } from "./query-keys";

function warnMalformed(event: string, error: z.ZodError): void {
  const issue = error.issues[0];
  console.warn(`[realtime] dropped a malformed ${event}: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid"}`);
}

export type LaneSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A `process:partial` message (lib/socket-events.ts). */
export type PartialLine = z.infer<(typeof ServerToClient)["process:partial"]>;

/** `connecting`: first attempt; `reconnecting`: lost after having been connected; `offline`: not retrying. */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "offline";

export interface LaneStreamHandlers {
  /** Lines from the subscribe ack (`fromAck: true`, the recent tail) or live output. May overlap: dedupe by (processId, stream, offset). */
  onLines(lines: LogLine[], info: { fromAck: boolean; resubscribed: boolean }): void;
  /** The server skipped `count` lines for this subscriber (it fell behind); the log file keeps them. */
  onDropped?(info: { processId: string; count: number }): void;
  /** A process's partial last line (no newline yet, e.g. a prompt), shown until a line of its stream reaches `offset`. */
  onPartial?(partial: PartialLine): void;
  /** The server refused the subscription. */
  onError?(message: string): void;
}

interface Subscriber {
  tail: number;
  /** ms its live output may be held by the server (lane:subscribe `everyMs`). */
  everyMs: number;
  handlers: LaneStreamHandlers;
  /** Set once an ack has been delivered; later acks are re-subscriptions. */
  acked: boolean;
}

/** Events per catch-up page, and at most this many pages before falling back to a plain refetch. */
const CATCH_UP_PAGE = 500;
const CATCH_UP_MAX_PAGES = 20;

export interface RealtimeOptions {
  /** Builds the (not yet connected) socket; defaults to the same origin and default path. */
  createSocket?: () => LaneSocket;
  /** Invalidation window in ms (default 250). */
  invalidateWaitMs?: number;
  /** Window in ms in which live events are patched onto the cached board together (default {@link BOARD_PATCH_MS}). */
  boardPatchMs?: number;
  /** Loads missed events (default: `GET /api/v1/events` on the same origin). */
  fetchEvents?: (after: number, limit: number) => Promise<EventsResponse>;
  /** Loads some lanes' views (default: `GET /api/v1/lanes?ids=` on the same origin). */
  fetchLanes?: (ids: readonly string[]) => Promise<LaneView[]>;
}

/**
 * Live events are patched onto the cached board together, once per this many ms: each patch is a
 * new board, and each new board re-renders it. At 100 lane events a second on a 1,000-lane board,
 * patching per event kept the browser's main thread 40-65 % busy, in tasks up to 70 ms (a Chrome
 * trace of `npm run bench:board`). A lane's own page and event list are still patched at once.
 */
export const BOARD_PATCH_MS = 100;

/** Events kept to apply again onto a board snapshot that is older than them: 20 s at 100 events a second. */
const RECENT_EVENTS = 2000;

/** Lane-less events that change the board document: repos, and the scheduler's queue (caps, limits, budgets). */
const BOARD_WIDE = /^(repo|scheduler)\./;

export class RealtimeClient {
  #socket: LaneSocket | null = null;
  #status: ConnectionState = "connecting";
  #everConnected = false;
  #statusListeners = new Set<() => void>();
  #cursor = 0;
  #subscribers = new Map<string, Set<Subscriber>>();
  #invalidate: Batcher<string>;
  #boardPatches: Batcher<LaneEvent>;
  /** The newest live event id seen per lane, to tell when a lane's event list missed one. */
  #newestByLane = new Map<string, number>();
  #liveListeners = new Set<(ev: LaneEvent) => void>();
  /** The events applied lately, oldest first (at most 2 × {@link RECENT_EVENTS}), for {@link noteSnapshot}. */
  #recent: LaneEvent[] = [];

  constructor(
    private readonly queryClient: QueryClient,
    private readonly options: RealtimeOptions = {},
  ) {
    this.#boardPatches = createBatcher((events) => {
      queryClient.setQueryData<BoardResponse>(laneKeys.board, (board) => (board ? applyBoardEvents(board, events) : board));
    }, options.boardPatchMs ?? BOARD_PATCH_MS);
    // Key "" stands for the board itself; other keys are lane ids.
    this.#invalidate = createBatcher((keys) => {
      // What is refetched lands on the board with every live event patched in so far.
      this.#boardPatches.flush();
      const ids = [...keys].filter((k) => k !== "");
      for (const id of ids) {
        void queryClient.invalidateQueries({ queryKey: laneKeys.detail(id) });
        // A live event that came while the lane's event list was loading (no list to append to),
        // or before a load that read older rows finished, is not in the list: load it again.
        const listed = queryClient.getQueryData<readonly LaneEvent[]>(laneKeys.events(id))?.at(-1)?.id ?? 0;
        if (queryClient.getQueryState(laneKeys.events(id)) && listed < (this.#newestByLane.get(id) ?? 0)) {
          void queryClient.invalidateQueries({ queryKey: laneKeys.events(id), exact: true });
        }
      }
      const board = queryClient.getQueryData<BoardResponse>(laneKeys.board);
      if (!board || keys.has("") || ids.length > MAX_LANE_IDS || board.lanes.some((l) => l.state === "queued")) {
        void queryClient.invalidateQueries({ queryKey: laneKeys.board });
      } else if (ids.length > 0) void this.#refreshLanes(ids);
    }, options.invalidateWaitMs ?? 250);
  }

  /** Open the connection (idempotent). Call from an effect: never during server rendering. */
  start(): void {
    if (this.#socket) return;
    const socket = this.options.createSocket?.() ?? (io({ autoConnect: false }) as LaneSocket);
    this.#socket = socket;
    socket.on("connect", () => {
      const reconnect = this.#everConnected;
      this.#everConnected = true;
      this.#setStatus("connected");
      for (const [laneId, subs] of this.#subscribers) for (const sub of subs) this.#emitSubscribe(laneId, sub);
      void this.#catchUp(reconnect);
    });
    socket.on("disconnect", (reason) => {
      // A server-initiated disconnect is not retried by Socket.IO; the server is probably restarting.
      if (reason === "io server disconnect") socket.connect();
      this.#setStatus(this.#everConnected ? "reconnecting" : "connecting");
    });
    socket.on("connect_error", () => {
      if (!socket.active) this.#setStatus("offline");
    });
    socket.on("lane:event", (payload) => {
      const parsed = ServerToClient["lane:event"].safeParse(payload);
      if (!parsed.success) return warnMalformed("lane:event", parsed.error);
      this.#applyEvent(parsed.data as LaneEvent);
      for (const listener of this.#liveListeners) listener(parsed.data as LaneEvent);
    });
    socket.on("process:output", (payload) => {
      const parsed = ServerToClient["process:output"].safeParse(payload);
      if (!parsed.success) return warnMalformed("process:output", parsed.error);
      let chunks;
      try {
        chunks = unpackOutput(parsed.data);
      } catch (err) {
        return console.warn(`[realtime] dropped a malformed process:output: ${(err as Error).message}`);
      }
      const perLane = new Map<string, LogLine[]>();
      for (const { laneId, processId, chunk } of chunks) {
        if (!this.#subscribers.get(laneId)?.size) continue;
        const lines = decodeChunk(processId, chunk);
        const list = perLane.get(laneId);
        if (list) list.push(...lines);
        else perLane.set(laneId, lines);
      }
      for (const [laneId, lines] of perLane) {
        for (const sub of this.#subscribers.get(laneId) ?? []) sub.handlers.onLines(lines, { fromAck: false, resubscribed: false });
      }
    });
    socket.on("process:partial", (payload) => {
      const parsed = ServerToClient["process:partial"].safeParse(payload);
      if (!parsed.success) return warnMalformed("process:partial", parsed.error);
      for (const sub of this.#subscribers.get(parsed.data.laneId) ?? []) sub.handlers.onPartial?.(parsed.data);
    });
    socket.on("process:dropped", (payload) => {
      const parsed = ServerToClient["process:dropped"].safeParse(payload);
      if (!parsed.success) return warnMalformed("process:dropped", parsed.error);
      const { laneId, processId, count } = parsed.data;
      for (const sub of this.#subscribers.get(laneId) ?? []) sub.handlers.onDropped?.({ processId, count });
    });
    socket.connect();
  }

  /** Close the connection and stop pending work (idempotent; `start` may be called again). */
  stop(): void {
    this.#invalidate.cancel();
    this.#boardPatches.cancel();
    this.#socket?.removeAllListeners();
    this.#socket?.disconnect();
    this.#socket = null;
    this.#everConnected = false;
    this.#setStatus("connecting");
  }

  getStatus = (): ConnectionState => this.#status;

  /** useSyncExternalStore-style subscription to status changes. */
  subscribeStatus = (listener: () => void): (() => void) => {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  };

  /**
   * Listen to events as they happen (live `lane:event` only; events replayed after a reconnect
   * are not announced again). Called after the caches were patched. @returns unsubscribe.
   */
  onLiveEvent(listener: (ev: LaneEvent) => void): () => void {
    this.#liveListeners.add(listener);
    return () => this.#liveListeners.delete(listener);
  }

  /** The newest event id applied so far. */
  get cursor(): number {
    return this.#cursor;
  }

  /**
   * Take a fresh board snapshot (what the board's query stores): returns it with the live events
   * newer than it applied, which the board it replaces already had. A snapshot is always a little
   * behind while events flow; refetching it then, as this did, made at 100 events a second a loop
   * of whole-board refetches (1.5 a second in a trace of a 1,000-lane board). Only when those
   * events are no longer all at hand ({@link RECENT_EVENTS}) is a refetch scheduled. If the
   * socket connected before any snapshot, catch up from this one.
   */
  noteSnapshot(board: BoardResponse): BoardResponse {
    const { cursor } = board;
    if (cursor < this.#cursor) {
      if ((this.#recent[0]?.id ?? Infinity) <= cursor) return applyBoardEvents(board, this.#recent.filter((e) => e.id > cursor));
      this.#invalidate.push("");
      return board;
    }
    const first = this.#cursor === 0;
    this.#cursor = cursor;
    // Connected before any snapshot (a board rendered on the server is noted once the page has
    // hydrated, which may be after the socket opened): the connection's catch-up had no cursor to
    // start from, so events between the snapshot and the connection are fetched now.
    if (first && cursor > 0 && this.#socket?.connected) void this.#catchUp(false);
    return board;
  }

  /**
   * The events of lane `laneId` applied lately (live or caught up), oldest first: at most the last
   * {@link RECENT_EVENTS} to {@link RECENT_EVENTS} × 2 of all lanes. For a load of the lane's event
   * list (use-lane-events.ts), which keeps those past what the server read.
   */
  recentLaneEvents(laneId: string): LaneEvent[] {
    return this.#recent.filter((e) => e.laneId === laneId);
  }

  /**
   * Follow a lane's output: the server sends the last `tail` lines (0..5000) in the ack, then
   * live lines. Survives reconnects (re-subscribes, `resubscribed: true`).
   * @param everyMs how long the server may hold live lines to send them with more (0..1000; a
   *   view rendering a few times a second needs them no sooner); the lane's most eager
   *   subscriber sets the pace
   * @returns unsubscribe.
   */
  subscribeLane(laneId: string, tail: number, handlers: LaneStreamHandlers, everyMs = 0): () => void {
    let subs = this.#subscribers.get(laneId);
    if (!subs) this.#subscribers.set(laneId, (subs = new Set()));
    const sub: Subscriber = { tail, everyMs, handlers, acked: false };
    subs.add(sub);
    this.#emitSubscribe(laneId, sub);
    return () => {
      subs.delete(sub);
      if (subs.size > 0) return;
      this.#subscribers.delete(laneId);
      if (this.#socket?.connected) this.#socket.emit("lane:unsubscribe", { laneId });
    };
  }

  #emitSubscribe(laneId: string, sub: Subscriber): void {
    // While disconnected, the "connect" handler subscribes; emitting now would be buffered and sent twice.
    if (!this.#socket?.connected) return;
    let everyMs = sub.everyMs;
    for (const other of this.#subscribers.get(laneId) ?? []) everyMs = Math.min(everyMs, other.everyMs);
    this.#socket.emit("lane:subscribe", { laneId, tail: sub.tail, everyMs }, (res) => {
      if (!this.#subscribers.get(laneId)?.has(sub)) return;
      const parsed = SubscribeAckSchema.safeParse(res);
      if (!parsed.success) return sub.handlers.onError?.("Unexpected reply to lane:subscribe");
      if (!parsed.data.ok) return sub.handlers.onError?.(parsed.data.error.message);
      const resubscribed = sub.acked;
      sub.acked = true;
      sub.handlers.onLines(parsed.data.lines, { fromAck: true, resubscribed });
    });
  }

  #applyEvent(ev: LaneEvent): void {
    if (ev.id > this.#cursor) this.#cursor = ev.id;
    const qc = this.queryClient;
    this.#boardPatches.push(ev);
    this.#recent.push(ev);
    if (this.#recent.length > 2 * RECENT_EVENTS) this.#recent = this.#recent.slice(-RECENT_EVENTS);
    if (ev.laneId) {
      qc.setQueryData<LaneView>(laneKeys.detail(ev.laneId), (lane) => (lane ? applyLaneEvent(lane, ev) : lane));
      qc.setQueryData<readonly LaneEvent[]>(laneKeys.events(ev.laneId), (list) => (list ? appendLaneEvent(list, ev) : list));
    }
    if (ev.laneId && ev.id > (this.#newestByLane.get(ev.laneId) ?? 0)) this.#newestByLane.set(ev.laneId, ev.id);
    if (ev.laneId) this.#invalidate.push(ev.laneId);
    else if (BOARD_WIDE.test(ev.type)) this.#invalidate.push("");
  }

  /** Refetch some lanes and put them into the cached board; on failure refetch the board instead. */
  async #refreshLanes(ids: readonly string[]): Promise<void> {
    const qc = this.queryClient;
    try {
      const views = await (this.options.fetchLanes ?? api.lanesByIds)(ids);
      qc.setQueryData<BoardResponse>(laneKeys.board, (board) => (board ? mergeLanes(board, views) : board));
    } catch {
      void qc.invalidateQueries({ queryKey: laneKeys.board });
    }
  }

  /**
   * Fetch and apply the events missed since the cursor, then refetch every lane query (on the
   * first connect only if something was missed: the initial fetches are fresh).
   */
  async #catchUp(reconnect: boolean): Promise<void> {
    const socket = this.#socket;
    let applied = 0;
    let failed = false;
    try {
      // Cursor 0 means no snapshot yet: the board's first fetch is the catch-up.
      for (let page = 0; this.#cursor > 0 && page < CATCH_UP_MAX_PAGES; page++) {
        const fetchEvents = this.options.fetchEvents ?? ((after, limit) => api.events(after, { limit }));
        const { events } = await fetchEvents(this.#cursor, CATCH_UP_PAGE);
        if (socket !== this.#socket) return;
        for (const ev of events) this.#applyEvent(ev as LaneEvent);
        this.#boardPatches.flush(); // a page of missed events is a batch already
        applied += events.length;
        if (events.length < CATCH_UP_PAGE) break;
      }
    } catch (err) {
      failed = true;
      console.warn("[realtime] catch-up failed; refetching instead", err);
    }
    if (!reconnect && !failed && applied === 0) return;
    this.#invalidate.cancel();
    void this.queryClient.invalidateQueries({ queryKey: laneKeys.all });
  }

  #setStatus(status: ConnectionState): void {
    if (status === this.#status) return;
    this.#status = status;
    for (const listener of this.#statusListeners) listener();
  }
}
