/**
 * Test fixture for the realtime layer: a real runtime (runtime-harness), Socket.IO attached to a
 * real HTTP server on a free port, and one connected Socket.IO client (websocket transport, as
 * the board's) authenticated with the runtime's admin token (more clients: `{ auth: { token } }`).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { io as connect, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "@/lib/socket-events";
import { startTestRuntime, type TestRuntime } from "../testing/runtime-harness";
import type { FanoutOptions } from "./output-fanout";
import { attachRealtime, type Realtime } from "./socket-server";
import { OriginPolicy } from "../http/origin-policy";

export interface RealtimeFixture {
  h: TestRuntime;
  realtime: Realtime;
  client: Socket<ServerToClientEvents, ClientToServerEvents>;
  /** The server's URL (for more clients). */
  url: string;
  /** The admin token (`io(url, { auth: { token } })`). */
  token: string;
  /** Close the client, the realtime layer and the runtime. */
  close(): Promise<void>;
}

/** Start a runtime with realtime attached and a connected client. */
export async function startRealtime(opts: FanoutOptions = {}): Promise<RealtimeFixture> {
  const h = await startTestRuntime();
  const http = createServer();
  const origins = new OriginPolicy({ bindHost: "127.0.0.1" });
  const realtime = attachRealtime(http, { bus: h.rt.bus, lanes: h.rt.lanes, supervisor: h.rt.supervisor, auth: h.rt.auth, origins }, opts);
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const token = h.rt.auth.adminToken;
  const client: RealtimeFixture["client"] = connect(url, { transports: ["websocket"], auth: { token } });
  await new Promise<void>((r) => client.once("connect", () => r()));
  return {
    h,
    realtime,
    client,
    url,
    token,
    async close() {
      client.close();
      await realtime.close();
      await h.close();
    },
  };
}
