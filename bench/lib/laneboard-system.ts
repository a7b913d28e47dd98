/**
 * Laneboard as a {@link BenchSystem}: the server child (bench/lib/server-child.ts, the real
 * runtime and realtime layer without Next.js) forked as its own process, driven over fork IPC,
 * and one real Socket.IO client (websocket transport, as the board's) subscribed to every bench
 * lane's room with `lane:subscribe` (tail 0). Lines are counted as `process:output` batches arrive.
 */
import { fork, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { io as connect, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from "@/lib/socket-events";
import { PRINTER, printerNodeFlags, type BenchSystem, type Receiver, type Started } from "./system";
import type { BenchLane, Ready, Reply, Request, Result } from "./protocol";
import { preciseNow } from "./measure";
import { chunkBytes } from "@/lib/log-chunk";
import { SERVER_ENV, SERVER_NODE_FLAGS } from "../../server/node-flags";

const SERVER_CHILD = fileURLToPath(new URL("./server-child.ts", import.meta.url));
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export interface LaneboardOptions {
  /** The server's data dir (created by the caller, removed by the caller). */
  dataDir: string;
  /** Where the server creates the bench's git repo (must not exist; removed by the caller). */
  repoDir: string;
  /** File the server's stdout/stderr go to. */
  logFile: string;
  /** Lanes to create (processes are started as background processes of these). */
  lanes: number;
  /** Run the server with `--cpu-prof`, writing the profile into this directory on exit. */
  cpuProfDir?: string;
  /**
   * Run the server from another checkout of the repository (e.g. a scratch copy with a change
   * to try): its `bench/lib/server-child.ts`, with its own `server/**`. Default: this one.
   */
  serverRoot?: string;
  /** Extra node flags for the server (e.g. V8 heap flags to try against its RSS). */
  nodeArgs?: string[];
}

/**
 * Fork the server, create the lanes and connect the client.
 * @throws Error when the server does not come up within 60 s or a setup step fails (the server is stopped)
 */
export async function startLaneboard(o: LaneboardOptions): Promise<BenchSystem> {
  const out = openSync(o.logFile, "a");
  const root = o.serverRoot ? path.resolve(o.serverRoot) : path.resolve(path.dirname(SERVER_CHILD), "../..");
  const child = fork(path.join(root, "bench/lib/server-child.ts"), [o.dataDir, o.repoDir], {
    // --expose-gc: only for the `memory` diagnostics command (a GC on request, never otherwise).
    // The production flags (server/node-flags.ts), then any under test.
    execArgv: [...SERVER_NODE_FLAGS, "--import", "tsx", "--expose-gc", ...(o.nodeArgs ?? []), ...(o.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(o.cpuProfDir)}`] : [])],
    cwd: root,
    env: { ...process.env, ...SERVER_ENV },
    stdio: ["ignore", out, out, "ipc"],
    // Its own session, as PM2's daemon (and a server started from a terminal, whose clients are
    // browsers in other sessions). In the driver's session it shared the kernel's session
    // autogroup (sched_autogroup_enabled=1 here) with the client it sends to, so under load the
    // two split one group's CPU share while PM2's daemon had a group of its own. It still exits
    // when the driver goes away (IPC disconnect, server-child.ts).
    detached: true,
  });
  closeSync(out);
  const pending = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void }>();
  let seq = 0;
  const ready = new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s (see ${o.logFile})`)), 60_000);
    child.on("message", (msg: Reply | Ready) => {
      if ("ready" in msg) return clearTimeout(timer), resolve(msg);
      const p = pending.get(msg.seq);
      pending.delete(msg.seq);
      if (msg.ok) p?.resolve(msg.result);
      else p?.reject(new Error(msg.error));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const err = new Error(`the server exited (${code ?? signal}); see ${o.logFile}`);
      reject(err);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
  });
  const call = <C extends Request["cmd"]>(req: DistributiveOmit<Extract<Request, { cmd: C }>, "seq">): Promise<Extract<Result, { cmd: C }>> =>
    new Promise((resolve, reject) => {
      const s = ++seq;
      pending.set(s, { resolve: resolve as (r: Result) => void, reject });
      child.send({ ...req, seq: s } as Request);
    });

  let client: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
  try {
    const { port, pid, token } = await ready;
    const { lanes } = await call<"setup">({ cmd: "setup", lanes: o.lanes });
    client = connect(`http://127.0.0.1:${port}`, { transports: ["websocket"], reconnection: false, auth: { token } });
    await new Promise<void>((resolve, reject) => {
      client!.once("connect", resolve);
      client!.once("connect_error", reject);
    });
    for (const lane of lanes) {
      const ack = await new Promise<SubscribeAck>((r) => client!.emit("lane:subscribe", { laneId: lane.laneId, tail: 0 }, r));
      if (!ack.ok) throw new Error(`lane:subscribe ${lane.laneId}: ${ack.error.message}`);
    }
    return new LaneboardSystem(child, pid, lanes, client, call);
  } catch (err) {
    client?.close();
    await stopChild(child, call);
    throw err;
  }
}

type Call = <C extends Request["cmd"]>(req: DistributiveOmit<Extract<Request, { cmd: C }>, "seq">) => Promise<Extract<Result, { cmd: C }>>;

async function stopChild(child: ChildProcess, call: Call): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await call<"quit">({ cmd: "quit" }).catch(() => child.kill("SIGKILL"));
  await exited;
  clearTimeout(timer);
}

class LaneboardSystem implements BenchSystem {
  readonly name = "Laneboard";
  #receiver: Receiver | null = null;
  #closing = false;

  constructor(
    private readonly child: ChildProcess,
    readonly serverPid: number,
    private readonly lanes: BenchLane[],
    private readonly client: Socket<ServerToClientEvents, ClientToServerEvents>,
    private readonly call: Call,
  ) {
    client.on("process:output", (batch) => {
      const receivedAt = preciseNow();
      const r = this.#receiver;
      if (!r) return;
      // A message packs chunks of whole lines of several processes; each chunk header carries its
      // line count, so counting needs no decoding. Texts, when wanted, are cut as PM2's receiver
      // cuts its messages: one string per message (latin1: a char per byte, so the chunk lengths
      // are string lengths), split at newlines. Not the board's line model (lib/log-chunk.ts
      // decodeChunk): building it is the viewer's work, and its garbage cost the client GC pauses
      // that delayed later messages.
      for (const item of batch.items) if (r.handles.has(item.processId)) r.count(item.processId, item.lines);
      if (r.texts) {
        const bytes = chunkBytes(batch.data);
        const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
        let at = 0;
        for (const item of batch.items) {
          const end = at + item.length;
          if (r.handles.has(item.processId)) r.texts(item.processId, text.slice(at, end - 1).split("\n"), receivedAt);
          at = end;
        }
      }
    });
    // Without reconnection a lost connection would silently zero every later run: make it loud.
    client.on("disconnect", (reason) => {
      if (!this.#closing) process.stderr.write(`Laneboard: the Socket.IO client was disconnected (${reason}); later figures are invalid\n`);
    });
    client.on("process:dropped", ({ processId, count }) => {
      if (this.#receiver?.handles.has(processId)) this.#receiver.dropped(processId, count);
    });
  }

  get slots(): number {
    return this.lanes.length;
  }

  async start(slot: number, args: string[]): Promise<Started> {
    const lane = this.lanes[slot % this.lanes.length]!;
    const r = await this.call<"start">({ cmd: "start", laneId: lane.laneId, cwd: lane.worktreePath, argv: [process.execPath, ...printerNodeFlags(args), PRINTER, ...args] });
    return { handle: r.processId, pid: r.pid, logPath: r.stdoutPath };
  }

  async kill(handle: string): Promise<void> {
    await this.call<"kill">({ cmd: "kill", processId: handle });
  }

  setReceiver(receiver: Receiver | null): void {
    this.#receiver = receiver;
  }

  async memory(gc: boolean): Promise<NodeJS.MemoryUsage> {
    return (await this.call<"memory">({ cmd: "memory", gc })).usage;
  }

  async reset(): Promise<void> {
    // Ended processes are only rows and files: nothing to forget.
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.client.close();
    await stopChild(this.child, this.call).catch(() => undefined);
  }
}
