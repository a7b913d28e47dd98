/**
 * The realtime layer: forwards bus events to Socket.IO rooms. The domain never sees Socket.IO.
 *
 * - Every client is in the board room and receives every `lane:event`.
 * - `lane:subscribe` joins a lane's room and acks with the lane's recent output tail; live
 *   `process:output` messages follow (output-fanout.ts: chunks of whole lines packed into one
 *   binary attachment; the client decodes them). The client dedupes the overlap by
 *   `(processId, stream, offset)`, because the room is joined before the tail is read so that
 *   no line can fall between the two.
 * - Flow control per subscriber (output-fanout.ts): a subscriber that falls behind catches up
 *   from the log files in order, with memory bounded to one message; only output it can no
 *   longer catch up on is skipped, announced by `process:dropped { count }`.
 * - A partial last line that stays unchanged (a prompt) goes to the lane's room as
 *   `process:partial` (partial-lines.ts), and to a client subscribing while it is on show.
 * - Who may connect: the handshake's Host and Origin are checked (`allowRequest`: a foreign or
 *   `null` Origin, or `Sec-Fetch-Site: cross-site`, is refused before any packet), then the
 *   connection is authenticated (the board's session cookie, `auth: { token }` or an
 *   `Authorization: Bearer` header); without valid credentials `connect_error` says `unauthorized`.
 * - What it may see: a connection whose token is limited to repos joins those repos' rooms
 *   instead of the board room, so it receives only their lanes' events (none without a repo), and
 *   may subscribe only to their lanes' output. Revoking a token closes its connections at once,
 *   and so does its expiry (`expiresAt`): a connection lives no longer than its credentials.
 * - Several nodes on one PostgreSQL database (docs/scale-out.md): Socket.IO runs on its
 *   PostgreSQL adapter, and cluster-link.ts carries requests between nodes and the live output
 *   of lanes that run on another node. Lane events are emitted to this node's clients only: every
 *   node's bus carries every node's events, in cursor order.
 */
import type { Server as HttpServer, IncomingHttpHeaders } from "node:http";
import { Server, type Socket } from "socket.io";
import { isAppError } from "@/lib/errors";
import { BOARD_ROOM, ClientToServer, laneRoom, repoRoom, type ClientToServerEvents, type ServerToClientEvents } from "@/lib/socket-events";
import type { AuthService, Caller } from "../auth/auth-service";
import type { EventBus } from "../events/event-bus";
import type { LaneService } from "../lanes/lane-service";
import type { ClusterRpc } from "../rpc/rpc";
import { ClusterLink } from "./cluster-link";
import { OutputFanout, type CatchUpReader, type FanoutOptions } from "./output-fanout";
import { PartialLines } from "./partial-lines";

/** Longest delay `setTimeout` holds (2^31 − 1 ms, about 24.8 days); a later expiry is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type LaneSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface RealtimeDeps {
  bus: EventBus;
  lanes: Pick<LaneService, "logs" | "get">;
  /** Reads output back for subscribers that fell behind. */
  supervisor: CatchUpReader;
  /** Authenticates each connection. */
  auth: Pick<AuthService, "authenticate" | "onRevoked" | "mayReachRepo">;
  /** Host / Origin check of the handshake request (server/http/origin-policy.ts): null, or why it is refused. */
  origins: { checkHandshake(headers: IncomingHttpHeaders): string | null };
  /** Several nodes: the adapter (cluster-link.ts `postgresAdapter`) and this node's RPC. */
  cluster?: { adapter: Parameters<Server["adapter"]>[0]; url: string; nodeId: string; rpc: ClusterRpc };
}

/** What a connection carries once authenticated. */
export interface SocketData {
  caller: Caller;
}

export interface Realtime {
  io: Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
  fanout: OutputFanout;
  close(): Promise<void>;
}

/**
 * Attach Socket.IO to `http` (same port as Next.js) and start forwarding.
 * @param opts flow-control settings of the output fanout (tests use small ones)
 */
export function attachRealtime(http: HttpServer, deps: RealtimeDeps, opts: FanoutOptions = {}): Realtime {
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(http, {
    serveClient: false,
    // Same origin only (the board is served from this server): no CORS headers for anyone.
    cors: undefined,
    allowRequest: (req, callback) => {
      const refused = deps.origins.checkHandshake(req.headers);
      callback(refused, refused === null);
    },
    ...(deps.cluster ? { adapter: deps.cluster.adapter } : {}),
  });
  io.use((socket, next) => {
    const { headers, auth } = socket.handshake;
    const result = deps.auth.authenticate({ authorization: headers.authorization, cookie: headers.cookie, socketToken: (auth as { token?: unknown }).token });
    if (!result.ok) return next(Object.assign(new Error("unauthorized"), { data: { code: "unauthorized", message: result.message } }));
    socket.data.caller = result.caller;
    next();
  });
  const link = deps.cluster ? new ClusterLink(io as never, { url: deps.cluster.url, nodeId: deps.cluster.nodeId, rpc: deps.cluster.rpc }) : null;
  const fanout = new OutputFanout(io, deps.supervisor, opts);
  const partials = new PartialLines();

  io.on("connection", (socket: LaneSocket) => {
    const { repos } = socket.data.caller;
    void socket.join(repos === null ? BOARD_ROOM : [...repos].map(repoRoom));
    closeAtExpiry(socket);
    fanout.add(socket);
    socket.on("lane:subscribe", async (raw, ack) => {
      const reply = typeof ack === "function" ? ack : () => undefined;
      const parsed = ClientToServer["lane:subscribe"].safeParse(raw);
      if (!parsed.success) return reply({ ok: false, error: { code: "invalid_input", message: parsed.error.issues[0]?.message ?? "bad payload" } });
      const { laneId, tail, everyMs } = parsed.data;
      try {
        if (socket.data.caller.repos !== null && !deps.auth.mayReachRepo(socket.data.caller, (await deps.lanes.get(laneId)).repoId)) {
          return reply({ ok: false, error: { code: "forbidden", message: "this token may not read that lane's repo" } });
        }
        fanout.pace(socket.id, laneId, everyMs);
        await socket.join(laneRoom(laneId));
        // Another node may run it: ask for its live output before reading the tail (same order).
        link?.watch(laneId);
        const { lines } = await deps.lanes.logs(laneId, { limit: Math.max(tail, 1) });
        reply({ ok: true, lines: tail === 0 ? [] : lines });
        // After the ack: a prompt already waiting is shown after the lines it follows.
        for (const m of partials.forLane(laneId)) socket.emit("process:partial", m);
      } catch (err) {
        void socket.leave(laneRoom(laneId));
        reply({ ok: false, error: isAppError(err) ? { code: err.code, message: err.message } : { code: "internal", message: "subscribe failed" } });
      }
    });
    socket.on("lane:unsubscribe", (raw) => {
      const parsed = ClientToServer["lane:unsubscribe"].safeParse(raw);
      if (!parsed.success) return;
      fanout.pace(socket.id, parsed.data.laneId, 0);
      void socket.leave(laneRoom(parsed.data.laneId));
    });
    socket.on("disconnect", () => fanout.remove(socket.id));
  });

  const offEvent = deps.bus.on("lane.event", (event) => {
    // Local clients only: every node's bus carries every node's events (docs/scale-out.md).
    io.local.to(event.repoId ? [BOARD_ROOM, repoRoom(event.repoId)] : BOARD_ROOM).emit("lane:event", event);
  });
  const offRevoked = deps.auth.onRevoked((tokenId) => {
    for (const socket of io.sockets.sockets.values()) if (socket.data.caller?.tokenId === tokenId) socket.disconnect(true);
  });

  const offOutput = deps.bus.on("process.output", fanout.publish);
  const offRemote = link ? deps.bus.on("process.output", link.publish) : () => undefined;
  const offCompleted = deps.bus.on("process.output", partials.onOutput);
  const offPartial = deps.bus.on("process.partial", (p) => {
    const m = partials.set(p);
    if (m) link?.partial(m);
    const room = m && io.sockets.adapter.rooms.get(laneRoom(m.laneId));
    if (!m || !room) return;
    // A subscriber that is behind has not been sent the lines before it; it gets the line later.
    for (const id of room) if (!fanout.isBehind(id)) io.sockets.sockets.get(id)?.emit("process:partial", m);
  });
  const offExit = deps.bus.on("process.exit", (e) => partials.forget(e.processId));

  return {
    io,
    fanout,
    async close() {
      offEvent();
      offOutput();
      offRemote();
      link?.close();
      offCompleted();
      offPartial();
      offExit();
      offRevoked();
      // Close the transports rather than disconnecting the sockets: a Socket.IO client treats a
      // server-side disconnect as final, and a lost transport as a reason to reconnect.
      io.engine.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

/**
 * Disconnect `socket` when the token it authenticated with expires: the HTTP side refuses an
 * expired token at its next request, but a connection makes none, so it is closed by the clock.
 */
function closeAtExpiry(socket: LaneSocket): void {
  const { expiresAt } = socket.data.caller;
  if (expiresAt === null) return;
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const left = expiresAt - Date.now();
    if (left <= 0) return void socket.disconnect(true);
    timer = setTimeout(check, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  check();
  socket.once("disconnect", () => clearTimeout(timer));
}
