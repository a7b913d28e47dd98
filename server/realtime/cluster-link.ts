/**
 * Socket.IO across nodes (docs/scale-out.md), through its PostgreSQL adapter
 * (`@socket.io/postgres-adapter`: LISTEN/NOTIFY, payloads over 8 kB and binary ones through its
 * attachment table): every node shares the database already, so nothing else has to run.
 *
 * - **Requests between nodes** ({@link ClusterTransport} for server/cluster/rpc.ts): a
 *   server-side emit naming the addressed node, answered by a server-side emit naming the caller
 *   (not Socket.IO's acknowledgements, which wait for every node and give up after 5 s, while a
 *   kill waits for its grace period). A NOTIFY reaches only the sessions listening when it is
 *   sent, and after its connection is cut (a database restart) the adapter listens anew only
 *   1–3 s later: so a request is sent again every {@link RPC_RESEND_MS} until answered, and the
 *   addressed node runs each request id once, answering a repeat with the answer it already has
 *   (at-least-once delivery, at-most-once execution).
 * - **Live output of lanes on other nodes**: a node whose clients watch a lane it does not run
 *   announces its interest (`cluster:interest`, renewed every {@link INTEREST_RENEW_MS} while
 *   anyone watches); the node running the lane sends that lane's output to the other nodes
 *   (`cluster:output`, packed as `process:output`, one message per lane per flush), and each
 *   passes it to its own subscribers of the lane. A subscriber that stops reading is skipped with
 *   `process:dropped` (the lines stay in the log on the running node; the tail on the next
 *   subscribe reads them).
 * - Lane events are not sent through the adapter: every node publishes the whole event log in
 *   cursor order from the database (server/events/event-log.ts).
 *
 * The adapter's pool has two connections: one listens, one sends and fetches attachments, so
 * messages leave and arrive in order.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "socket.io";
import { createAdapter } from "@socket.io/postgres-adapter";
import pg from "pg";
import { laneRoom, type ServerToClientEvents } from "@/lib/socket-events";
import type { PackedChunk } from "@/lib/log-chunk";
import type { ProcessOutput } from "../events/event-bus";
import { MIGRATE_LOCK } from "../store/migrate-postgres";
import { RPC_TIMEOUT_MS, RpcRequestSchema, type ClusterRpc, type ClusterTransport, type RpcAnswer } from "../rpc/rpc";
import type { PartialMessage } from "./partial-lines";

/** How often a node repeats its interest in a lane that its clients watch, in ms. */
export const INTEREST_RENEW_MS = 10_000;
/** How long an announced interest lasts without renewal, in ms. */
const INTEREST_TTL_MS = 3 * INTEREST_RENEW_MS;
/** How often a request without an answer yet is sent again, in ms. */
export const RPC_RESEND_MS = 1000;
/** A subscriber with more engine.io packets than this waiting is skipped (it gets `process:dropped`). */
const MAX_WAITING_PACKETS = 2000;

type Output = Parameters<ServerToClientEvents["process:output"]>[0];

export interface ClusterLinkDeps {
  url: string;
  nodeId: string;
  rpc: ClusterRpc;
}

/** Advisory lock key (migrations' namespace, key 2) under which the adapter's table is created. */
const ATTACHMENTS_LOCK = [MIGRATE_LOCK[0], 2];

/** Create the adapter (and its attachment table) for `new Server(…, { adapter })`. @throws what PostgreSQL throws */
export async function postgresAdapter(url: string): Promise<{ adapter: ReturnType<typeof createAdapter>; pool: pg.Pool }> {
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: "laneboard-socketio" });
  pool.on("error", () => undefined);
  releaseWhenEnded(pool);
  // Under a lock: `CREATE TABLE IF NOT EXISTS` run by nodes starting together can still collide
  // in PostgreSQL's catalog (a unique violation on pg_type), which would fail all but one start.
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1, $2)", ATTACHMENTS_LOCK);
    await client.query(`CREATE TABLE IF NOT EXISTS socket_io_attachments (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)`);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  return { adapter: createAdapter(pool, { errorHandler: (err: Error) => console.warn(`[realtime] PostgreSQL adapter: ${err.message}`) }), pool };
}

/**
 * Give a checked-out client back to `pool` (as broken, so the pool drops it) when its connection
 * ends. The adapter holds its LISTEN client checked out for good, and when the database restarts
 * it only forgets that client and takes another: pg-pool still counts the dead one (it drops only
 * idle clients that fail), so with two connections the new LISTEN client and the dead one fill the
 * pool, every NOTIFY the node sends waits forever, and requests between nodes time out after the
 * database is back.
 */
function releaseWhenEnded(pool: pg.Pool): void {
  const out = new Set<pg.PoolClient>();
  pool.on("acquire", (client) => out.add(client));
  pool.on("release", (_err, client) => out.delete(client));
  pool.on("connect", (client) => {
    // A checked-out client has no error listener of the pool's, and the adapter adds none: the
    // error a cut connection emits (its "end" follows) would be an uncaught exception.
    client.on("error", () => undefined);
    client.on("end", () => {
      if (out.has(client as pg.PoolClient)) (client as pg.PoolClient).release(new Error("the connection ended"));
    });
  });
}

export class ClusterLink {
  /** Requests of this node waiting for their answer, by request id. */
  readonly #calls = new Map<string, (a: RpcAnswer | null) => void>();
  /**
   * Requests this node received, by request id: the answer once there is one, and until when a
   * repeat may still come (the caller stops sending when its timeout ends: ms since the epoch).
   */
  readonly #served = new Map<string, { answer: RpcAnswer | null; until: number }>();
  /** laneId → when another node last said its clients watch it (ms). */
  readonly #wanted = new Map<string, number>();
  /** Output built this turn, per lane, sent in one message each at the end of the turn. */
  #pending = new Map<string, { items: PackedChunk[]; parts: Buffer[]; bytes: number }>();
  #scheduled = false;
  readonly #renew: NodeJS.Timeout;
  readonly #io: Server;

  constructor(
    io: Server<never, ServerToClientEvents>,
    private readonly deps: ClusterLinkDeps,
  ) {
    this.#io = io as unknown as Server;
    const sio = this.#io;
    sio.on("cluster:rpc", (raw: { id?: unknown; req?: unknown; ttlMs?: unknown }) => {
      const req = RpcRequestSchema.safeParse(raw?.req);
      if (!req.success || req.data.to !== deps.nodeId || typeof raw.id !== "string") return;
      const id = raw.id;
      const reply = (answer: RpcAnswer) => sio.serverSideEmit("cluster:rpc-answer", { id, to: req.data.from, answer });
      const seen = this.#served.get(id);
      // A repeat: the caller has not heard the answer (or the request is still running).
      if (seen) return void (seen.answer && reply(seen.answer));
      this.#forgetServed();
      const ttlMs = typeof raw.ttlMs === "number" && raw.ttlMs > 0 ? Math.min(raw.ttlMs, 3_600_000) : RPC_TIMEOUT_MS;
      const entry: { answer: RpcAnswer | null; until: number } = { answer: null, until: Date.now() + ttlMs };
      this.#served.set(id, entry);
      void deps.rpc.receive(req.data).then((answer) => {
        entry.answer = answer;
        reply(answer);
      });
    });
    sio.on("cluster:rpc-answer", (msg: { id: string; to: string; answer: RpcAnswer }) => {
      if (msg?.to !== deps.nodeId) return;
      this.#calls.get(msg.id)?.(msg.answer);
    });
    sio.on("cluster:interest", (msg: { laneId?: unknown }) => {
      if (typeof msg?.laneId === "string") this.#wanted.set(msg.laneId, Date.now());
    });
    sio.on("cluster:output", (msg: { laneId: string; out: Output }) => this.#deliver(msg.laneId, msg.out));
    sio.on("cluster:partial", (m: PartialMessage) => io.local.to(laneRoom(m.laneId)).emit("process:partial", m));
    deps.rpc.setTransport(this.transport());
    this.#renew = setInterval(() => this.#renewInterest(), INTEREST_RENEW_MS);
    this.#renew.unref();
  }

  /**
   * Requests to other nodes: a server-side emit out, repeated every {@link RPC_RESEND_MS} until
   * one comes back (null after `timeoutMs`).
   */
  transport(): ClusterTransport {
    return {
      send: (req, timeoutMs) =>
        new Promise((resolve) => {
          const id = randomUUID();
          const emit = () => this.#io.serverSideEmit("cluster:rpc", { id, req, ttlMs: timeoutMs });
          const resend = setInterval(emit, RPC_RESEND_MS);
          const timer = setTimeout(() => done(null), timeoutMs);
          const done = (a: RpcAnswer | null) => {
            clearTimeout(timer);
            clearInterval(resend);
            this.#calls.delete(id);
            resolve(a);
          };
          this.#calls.set(id, done);
          emit();
        }),
    };
  }

  /** A client here watches a lane that another node runs: ask for its output. */
  watch(laneId: string): void {
    this.#io.serverSideEmit("cluster:interest", { laneId });
  }

  /** Bus listener for `process.output` of this node's processes: send it to nodes that asked. */
  publish = (batch: ProcessOutput): void => {
    const { laneId } = batch;
    if (!laneId) return;
    const at = this.#wanted.get(laneId);
    if (at === undefined) return;
    if (Date.now() - at > INTEREST_TTL_MS) return void this.#wanted.delete(laneId);
    let p = this.#pending.get(laneId);
    if (!p) this.#pending.set(laneId, (p = { items: [], parts: [], bytes: 0 }));
    for (const { data, ...rest } of batch.chunks) {
      // Chunk bytes are only valid while listeners run: copy now.
      p.parts.push(Buffer.from(data));
      p.items.push({ laneId, processId: batch.processId, ...rest, length: data.length });
      p.bytes += data.length;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  };

  /** A partial line of a watched lane, for the other nodes' subscribers. */
  partial(m: PartialMessage): void {
    if (this.#wanted.has(m.laneId)) this.#io.serverSideEmit("cluster:partial", m);
  }

  close(): void {
    clearInterval(this.#renew);
    for (const done of [...this.#calls.values()]) done(null);
    this.deps.rpc.setTransport(null);
  }

  /** Drop served requests whose callers have stopped repeating them. */
  #forgetServed(): void {
    const now = Date.now();
    for (const [id, e] of this.#served) if (e.until < now && e.answer) this.#served.delete(id);
  }

  #flush = (): void => {
    this.#scheduled = false;
    const pending = this.#pending;
    this.#pending = new Map();
    for (const [laneId, p] of pending) this.#io.serverSideEmit("cluster:output", { laneId, out: { items: p.items, data: Buffer.concat(p.parts, p.bytes) } });
  };

  /** Output from the node running `laneId`: to this node's subscribers of the lane. */
  #deliver(laneId: string, out: Output): void {
    const room = this.#io.sockets.adapter.rooms.get(laneRoom(laneId));
    if (!room) return;
    for (const id of room) {
      const socket = this.#io.sockets.sockets.get(id);
      if (!socket) continue;
      // engine.io's queue of packets not yet written to this client (not in its public types).
      if ((socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length > MAX_WAITING_PACKETS) {
        const byProcess = new Map<string, number>();
        for (const c of out.items) byProcess.set(c.processId, (byProcess.get(c.processId) ?? 0) + c.lines);
        for (const [processId, count] of byProcess) socket.emit("process:dropped", { laneId, processId, count });
        continue;
      }
      socket.emit("process:output", out);
    }
  }

  /** Renew the interest in every lane a local client watches (rooms of lanes run elsewhere included). */
  #renewInterest(): void {
    for (const room of this.#io.sockets.adapter.rooms.keys()) {
      if (room.startsWith("lane:")) this.watch(room.slice("lane:".length));
    }
  }
}
