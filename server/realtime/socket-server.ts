/**
 * The realtime layer: forwards bus events to Socket.IO rooms. The domain never sees Socket.IO.
 *
 * - Every client is in the board room and receives every `lane:event`.
 * - `lane:subscribe` joins a lane's room and acks with the lane's recent output tail; live
 *   `process:output` batches for that lane follow (the client dedupes the overlap by
 *   `(processId, stream, offset)`, because the room is joined before the tail is read so that
 *   no line can fall between the two).
 * - Backpressure per subscriber: when a socket's transport has more than
 *   {@link MAX_BUFFERED_PACKETS} packets waiting, output batches for it are dropped and counted;
 *   once it drains it gets `process:dropped { count }` before the next batch. Memory per slow
 *   subscriber is bounded; the log files keep everything for a re-read.
 */
import type { Server as HttpServer } from "node:http";
import { Server, type Socket } from "socket.io";
import { isAppError } from "@/lib/errors";
import { BOARD_ROOM, ClientToServer, laneRoom, type ClientToServerEvents, type ServerToClientEvents } from "@/lib/socket-events";
import type { EventBus } from "../events/event-bus";
import type { LaneService } from "../lanes/lane-service";

export const MAX_BUFFERED_PACKETS = 256;

type LaneSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export interface RealtimeDeps {
  bus: EventBus;
  lanes: Pick<LaneService, "logs">;
}

export interface Realtime {
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  close(): Promise<void>;
}

/** Attach Socket.IO to `http` (same port as Next.js) and start forwarding. */
export function attachRealtime(http: HttpServer, deps: RealtimeDeps): Realtime {
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, {
    serveClient: false,
    // Same origin only by default (the board is served from this server).
    cors: undefined,
  });
  /** Dropped-line counts per socket id → process id. */
  const dropped = new Map<string, Map<string, { laneId: string; count: number }>>();

  io.on("connection", (socket: LaneSocket) => {
    void socket.join(BOARD_ROOM);
    socket.on("lane:subscribe", async (raw, ack) => {
      const reply = typeof ack === "function" ? ack : () => undefined;
      const parsed = ClientToServer["lane:subscribe"].safeParse(raw);
      if (!parsed.success) return reply({ ok: false, error: { code: "invalid_input", message: parsed.error.issues[0]?.message ?? "bad payload" } });
      const { laneId, tail } = parsed.data;
      await socket.join(laneRoom(laneId));
      try {
        const { lines } = await deps.lanes.logs(laneId, { limit: Math.max(tail, 1) });
        reply({ ok: true, lines: tail === 0 ? [] : lines });
      } catch (err) {
        void socket.leave(laneRoom(laneId));
        reply({ ok: false, error: isAppError(err) ? { code: err.code, message: err.message } : { code: "internal", message: "subscribe failed" } });
      }
    });
    socket.on("lane:unsubscribe", (raw) => {
      const parsed = ClientToServer["lane:unsubscribe"].safeParse(raw);
      if (parsed.success) void socket.leave(laneRoom(parsed.data.laneId));
    });
    socket.on("disconnect", () => dropped.delete(socket.id));
  });

  const offEvent = deps.bus.on("lane.event", (event) => {
    io.to(BOARD_ROOM).emit("lane:event", event);
  });

  const offOutput = deps.bus.on("process.output", ({ laneId, processId, lines }) => {
    if (!laneId) return;
    const room = io.sockets.adapter.rooms.get(laneRoom(laneId));
    if (!room) return;
    for (const socketId of room) {
      const socket = io.sockets.sockets.get(socketId);
      if (!socket) continue;
      // engine.io's per-connection queue of packets not yet written to the transport.
      const buffered = (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
      let perSocket = dropped.get(socketId);
      if (buffered > MAX_BUFFERED_PACKETS) {
        if (!perSocket) dropped.set(socketId, (perSocket = new Map()));
        const entry = perSocket.get(processId) ?? { laneId, count: 0 };
        entry.count += lines.length;
        perSocket.set(processId, entry);
        continue;
      }
      if (perSocket?.size) {
        for (const [pid, d] of perSocket) socket.emit("process:dropped", { laneId: d.laneId, processId: pid, count: d.count });
        perSocket.clear();
      }
      socket.emit("process:output", { laneId, lines });
    }
  });

  return {
    io,
    async close() {
      offEvent();
      offOutput();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}
