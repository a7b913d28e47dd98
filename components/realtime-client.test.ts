/**
 * RealtimeClient against a real Socket.IO server on a real port (a minimal stand-in for
 * server/realtime speaking the lib/socket-events.ts catalog), with a real QueryClient.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { QueryClient } from "@tanstack/react-query";
import { Server, type Socket as ServerSocket } from "socket.io";
import { io } from "socket.io-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BoardResponse, EventsResponse, LaneView, LogLine } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";
import type { ClientToServerEvents, ServerToClientEvents } from "@/lib/socket-events";
import { laneKeys } from "./query-keys";
import { RealtimeClient, type LaneSocket } from "./realtime-client";

const lane: LaneView = {
  id: "L1", repoId: "R1", slug: "s", objective: "o", engine: "script", state: "running", branch: "lane/s", baseBranch: "main",
  worktreePath: "/w", ahead: 0, behind: 0, lastExitCode: null, attempt: 1, nodeId: null, checks: {}, lastEvent: { id: 1, type: "lane.started", at: "2026-11-20T12:00:00.000Z" },
  currentProcessId: "P1", queuePosition: null, createdAt: "2026-11-20T12:00:00.000Z", startedAt: null, endedAt: null,
};
const stateChanged = (id: number, from: LaneView["state"], to: LaneView["state"]): LaneEvent => ({
  id, v: 1, laneId: "L1", repoId: "R1", at: "2026-11-20T12:00:00.000Z", type: "lane.state_changed", payload: { from, to },
});
const logLine = (offset: number): LogLine => ({ processId: "P1", stream: "stdout", offset, seq: 0, ts: offset, text: `line ${offset}` });

/** Resolves the next time `pred` holds after `register`'s callback fires. */
function when(register: (cb: () => void) => () => void, pred: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (pred()) return resolve();
    const off = register(() => {
      if (pred()) {
        off();
        resolve();
      }
    });
  });
}

describe("RealtimeClient", () => {
  let http: HttpServer;
  let ioServer: Server<ClientToServerEvents, ServerToClientEvents>;
  let url: string;
  let serverSockets: ServerSocket[];
  let log: LaneEvent[];
  let qc: QueryClient;
  let client: RealtimeClient;
  let invalidations: string[];
  let invalidated: Set<() => void>;
  /** The ids of each `fetchLanes` call, and the views it answers with (the server's, in these tests). */
  let lanesFetched: string[][];
  let serverLanes: Map<string, LaneView>;

  beforeEach(async () => {
    http = createServer();
    ioServer = new Server(http);
    serverSockets = [];
    log = [];
    ioServer.on("connection", (s) => {
      serverSockets.push(s as unknown as ServerSocket);
      s.on("lane:subscribe", ({ laneId, tail }, ack) => {
        void s.join(`lane:${laneId}`);
        ack({ ok: true, lines: [logLine(0), logLine(10)].slice(-(tail ?? 200)) });
      });
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

    qc = new QueryClient();
    qc.setQueryData<BoardResponse>(laneKeys.board, { repos: [], lanes: [lane], cursor: 1 });
    invalidations = [];
    invalidated = new Set();
    lanesFetched = [];
    serverLanes = new Map([[lane.id, lane]]);
    const original = qc.invalidateQueries.bind(qc);
    qc.invalidateQueries = ((filters?: { queryKey?: readonly unknown[] }) => {
      invalidations.push(JSON.stringify(filters?.queryKey));
      for (const cb of invalidated) cb();
      return original(filters);
    }) as typeof qc.invalidateQueries;
    client = new RealtimeClient(qc, {
      createSocket: () => io(url, { autoConnect: false, transports: ["websocket"], reconnectionDelay: 10, reconnectionDelayMax: 20 }) as LaneSocket,
      invalidateWaitMs: 20,
      fetchLanes: async (ids) => {
        lanesFetched.push([...ids]);
        for (const cb of invalidated) cb();
        return ids.flatMap((id) => serverLanes.get(id) ?? []);
      },
      fetchEvents: async (after: number, limit: number): Promise<EventsResponse> => {
        const events = log.filter((e) => e.id > after).slice(0, limit);
        return { events, cursor: events.at(-1)?.id ?? after };
      },
    });
    client.noteSnapshot({ repos: [], lanes: [lane], cursor: 1 });
  });

  afterEach(async () => {
    client.stop();
    await new Promise<void>((r) => ioServer.close(() => r()));
  });

  const onInvalidate = (cb: () => void) => {
    invalidated.add(cb);
    return () => invalidated.delete(cb);
  };
  const connected = () => when(client.subscribeStatus, () => client.getStatus() === "connected");
  const boardLane = () => qc.getQueryData<BoardResponse>(laneKeys.board)!.lanes[0]!;

  it("patches the board from lane:event at once and refetches only the touched lane, once per burst", async () => {
    client.start();
    await connected();
    const boardKey = JSON.stringify(laneKeys.board);
    const firstFlush = when(onInvalidate, () => lanesFetched.length > 0);
    serverLanes.set("L1", { ...lane, state: "finished", objective: "as the server says", lastEvent: { id: 3, type: "lane.state_changed", at: lane.createdAt } });
    ioServer.emit("lane:event", stateChanged(2, "running", "checking"));
    ioServer.emit("lane:event", stateChanged(3, "checking", "finished"));
    ioServer.emit("lane:event", { id: 4, nonsense: true } as unknown as LaneEvent);
    await firstFlush;
    expect(boardLane().state).toBe("finished");
    expect(client.cursor).toBe(3);
    expect(lanesFetched).toEqual([["L1"]]);
    await when((cb) => qc.getQueryCache().subscribe(cb), () => boardLane().objective === "as the server says");
    expect(invalidations).not.toContain(boardKey); // 1,000 lanes of JSON are not fetched for one lane's change
    expect(invalidations).toContain(JSON.stringify(laneKeys.detail("L1")));
  });

  it("keeps each lane's recent events, for a first load of a lane's event list (it has no list to append them to yet)", async () => {
    client.start();
    await connected();
    ioServer.emit("lane:event", stateChanged(2, "running", "checking"));
    ioServer.emit("lane:event", { ...stateChanged(3, "checking", "finished"), laneId: "L2" });
    ioServer.emit("lane:event", stateChanged(4, "finished", "running"));
    await when(onInvalidate, () => client.cursor === 4);
    expect(client.recentLaneEvents("L1").map((e) => e.id)).toEqual([2, 4]);
    expect(client.recentLaneEvents("L2").map((e) => e.id)).toEqual([3]);
  });

  it("patches the board once for a burst of live events (one new board, one re-render), with every event in it", async () => {
    client.stop();
    const batched = new RealtimeClient(qc, {
      createSocket: () => io(url, { autoConnect: false, transports: ["websocket"] }) as LaneSocket,
      invalidateWaitMs: 60_000, // no refetch meanwhile: only the patches change the board
      boardPatchMs: 200,
      fetchEvents: async (after: number) => ({ events: [], cursor: after }),
    });
    batched.noteSnapshot({ repos: [], lanes: [lane], cursor: 1 });
    batched.start();
    await when(batched.subscribeStatus, () => batched.getStatus() === "connected");
    const boardKey = JSON.stringify(laneKeys.board);
    let boardUpdates = 0;
    const unsubscribe = qc.getQueryCache().subscribe((e) => void (e.type === "updated" && e.action.type === "success" && JSON.stringify(e.query.queryKey) === boardKey && boardUpdates++));
    const states: LaneView["state"][] = ["checking", "running"];
    for (let id = 2; id <= 21; id++) ioServer.emit("lane:event", stateChanged(id, states[id % 2]!, states[(id + 1) % 2]!));
    await when((cb) => qc.getQueryCache().subscribe(cb), () => boardLane().lastEvent?.id === 21);
    unsubscribe();
    expect(boardUpdates).toBe(1);
    expect(boardLane().state).toBe(states[0]);
    batched.stop();
  });

  it("a board snapshot older than live events already applied gets them applied again instead of a refetch; one older than the events at hand is refetched", async () => {
    client.start();
    await connected();
    const boardKey = JSON.stringify(laneKeys.board);
    ioServer.emit("lane:event", stateChanged(2, "running", "checking"));
    ioServer.emit("lane:event", stateChanged(3, "checking", "finished"));
    await when(onInvalidate, () => lanesFetched.length > 0); // both applied, the touched lane refreshed
    const behind = client.noteSnapshot({ repos: [], lanes: [{ ...lane, lastEvent: { id: 2, type: "lane.state_changed", at: lane.createdAt }, state: "checking" }], cursor: 2 });
    expect(behind.lanes[0]).toMatchObject({ state: "finished", lastEvent: { id: 3 } });
    // The next batch after it refreshes the touched lane alone: the snapshot scheduled no refetch.
    const fetched = lanesFetched.length;
    ioServer.emit("lane:event", stateChanged(4, "finished", "running"));
    await when(onInvalidate, () => lanesFetched.length > fetched);
    expect(invalidations).not.toContain(boardKey);
    const older = client.noteSnapshot({ repos: [], lanes: [lane], cursor: 0 }); // event 1 is not at hand
    expect(older.lanes[0]).toBe(lane);
    await when(onInvalidate, () => invalidations.includes(boardKey));
    expect(invalidations.filter((k) => k === boardKey)).toHaveLength(1);
  });

  it("refreshes nothing for an event that changes nothing on the board, the whole board for a board-wide one or while lanes are queued", async () => {
    client.start();
    await connected();
    const boardKey = JSON.stringify(laneKeys.board);
    const laneless = (id: number, type: string, payload: unknown) => ({ id, v: 1, laneId: null, repoId: null, at: lane.createdAt, type, payload }) as unknown as LaneEvent;
    // In one window with a lane's event: had the disk event asked for the board, the batch would refetch all of it.
    const laneFetch = when(onInvalidate, () => lanesFetched.length > 0);
    ioServer.emit("lane:event", laneless(2, "disk.space_freed", { dir: "/data", freeBytes: 1 << 30 }));
    ioServer.emit("lane:event", stateChanged(3, "running", "checking"));
    await laneFetch;
    expect(lanesFetched).toEqual([["L1"]]);
    expect(invalidations).not.toContain(boardKey);
    const wide = when(onInvalidate, () => invalidations.includes(boardKey));
    ioServer.emit("lane:event", laneless(4, "scheduler.decision", { kind: "rate_limits_changed", limits: {} }));
    await wide;
    expect(client.cursor).toBe(4);
    expect(lanesFetched).toHaveLength(1);

    qc.setQueryData<BoardResponse>(laneKeys.board, { repos: [], lanes: [lane, { ...lane, id: "L2", state: "queued" }], cursor: 4 });
    const queued = when(onInvalidate, () => invalidations.filter((k) => k === boardKey).length === 2);
    ioServer.emit("lane:event", stateChanged(5, "checking", "finished"));
    await queued;
    expect(lanesFetched).toHaveLength(1);
  });

  it("catches up from the cursor after a reconnect, then invalidates every lane query", async () => {
    client.start();
    await connected();
    log.push(stateChanged(2, "running", "checking"), stateChanged(3, "checking", "failed"));
    const allKey = JSON.stringify(laneKeys.all);
    const caughtUp = when(onInvalidate, () => invalidations.includes(allKey));
    const reconnecting = when(client.subscribeStatus, () => client.getStatus() === "reconnecting");
    serverSockets[0]!.conn.close();
    await reconnecting;
    await caughtUp;
    expect(client.cursor).toBe(3);
    expect(boardLane().state).toBe("failed");
    expect(client.getStatus()).toBe("connected");
  });

  it("catches up from a snapshot noted after the connection opened (the server-rendered board), applying what happened since", async () => {
    // A client that had no snapshot when it connected: its connect-time catch-up had no cursor.
    client.stop();
    client = new RealtimeClient(qc, {
      createSocket: () => io(url, { autoConnect: false, transports: ["websocket"] }) as LaneSocket,
      invalidateWaitMs: 20,
      fetchEvents: async (after: number, limit: number): Promise<EventsResponse> => {
        const events = log.filter((e) => e.id > after).slice(0, limit);
        return { events, cursor: events.at(-1)?.id ?? after };
      },
    });
    client.start();
    await connected();
    expect(client.cursor).toBe(0);
    // Events 2 and 3 happened after the snapshot (cursor 1) was taken and before the socket opened.
    log.push(stateChanged(2, "running", "checking"), stateChanged(3, "checking", "failed"));
    const caughtUp = when(onInvalidate, () => invalidations.includes(JSON.stringify(laneKeys.all)));
    client.noteSnapshot({ repos: [], lanes: [lane], cursor: 1 });
    await caughtUp;
    expect(client.cursor).toBe(3);
    expect(boardLane().state).toBe("failed");
  });

  it("loads a lane's event list again when a live event missed it (it came while the list was loading)", async () => {
    client.start();
    await connected();
    const key = JSON.stringify(laneKeys.events("L1"));
    // The list's query exists but holds no data yet: the live event has nothing to append to.
    const loading = new Promise<never>(() => {});
    void qc.prefetchQuery({ queryKey: laneKeys.events("L1"), queryFn: () => loading });
    const refetched = when(onInvalidate, () => invalidations.includes(key));
    ioServer.emit("lane:event", stateChanged(2, "running", "checking"));
    await refetched;
    // A list that has the newest event is left alone.
    invalidations.length = 0;
    qc.setQueryData(laneKeys.events("L1"), [stateChanged(2, "running", "checking")]);
    ioServer.emit("lane:event", stateChanged(3, "checking", "finished"));
    await when(onInvalidate, () => invalidations.includes(JSON.stringify(laneKeys.detail("L1"))));
    await when(onInvalidate, () => lanesFetched.length >= 2);
    expect(invalidations).not.toContain(key);
  });

  it("delivers the ack tail, live output and drops to lane subscribers, and re-subscribes after a reconnect", async () => {
    client.start();
    await connected();
    const got: { lines: number[]; fromAck: boolean; resubscribed: boolean }[] = [];
    const dropped: number[] = [];
    const texts: string[] = [];
    let notify = () => {};
    const unsubscribe = client.subscribeLane("L1", 1, {
      onLines: (lines, info) => {
        got.push({ lines: lines.map((l) => l.offset), ...info });
        if (!info.fromAck) texts.push(...lines.map((l) => l.text));
        notify();
      },
      onDropped: ({ count }) => {
        dropped.push(count);
        notify();
      },
    });
    const until = (pred: () => boolean) => when((cb) => ((notify = cb), () => (notify = () => {})), pred);
    await until(() => got.length === 1);
    expect(got[0]).toEqual({ lines: [10], fromAck: true, resubscribed: false });

    // Binary chunk over a real Socket.IO connection: CRLF and an invalid byte, decoded by the client.
    // One packed message: a chunk of lane L1 and one of a lane this client did not subscribe to.
    const l1 = Buffer.from("line 20\r\nsecond \xff\n", "latin1");
    const l2 = Buffer.from("other lane\n");
    const item = (laneId: string, offset: number, length: number) => ({ laneId, processId: "P1", stream: "stdout" as const, offset, lines: 1, seq: 0, ts: 1, length });
    ioServer.to("lane:L1").emit("process:output", { items: [item("L2", 99, l2.length), item("L1", 20, l1.length)], data: Buffer.concat([l2, l1]) });
    ioServer.to("lane:L1").emit("process:dropped", { laneId: "L1", processId: "P1", count: 7 });
    await until(() => dropped.length === 1);
    expect(got[1]).toEqual({ lines: [20, 29], fromAck: false, resubscribed: false });
    expect(texts).toEqual(["line 20", "second \uFFFD"]);
    expect(got).toHaveLength(2);
    expect(dropped).toEqual([7]);

    serverSockets[0]!.conn.close();
    await until(() => got.length === 3);
    expect(got[2]).toEqual({ lines: [10], fromAck: true, resubscribed: true });

    const left = new Promise<void>((r) => serverSockets[1]!.on("lane:unsubscribe", () => r()));
    unsubscribe();
    await left;
  });
});
