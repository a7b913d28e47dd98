/**
 * The realtime layer of a benchmark's server process: the production `attachRealtime` on a plain
 * HTTP server, with the runtime's own auth and a loopback-only origin policy (the benchmark's
 * clients connect to 127.0.0.1).
 */
import type { Server as HttpServer } from "node:http";
import { OriginPolicy } from "../../server/http/origin-policy";
import { attachRealtime, type Realtime, type RealtimeDeps } from "../../server/realtime/socket-server";
import type { Runtime } from "../../server/runtime";

export function attachBenchRealtime(http: HttpServer, rt: Runtime, cluster?: RealtimeDeps["cluster"]): Realtime {
  return attachRealtime(http, {
    bus: rt.bus,
    lanes: rt.lanes,
    supervisor: rt.supervisor,
    auth: rt.auth,
    origins: new OriginPolicy({ bindHost: "127.0.0.1" }),
    ...(cluster ? { cluster } : {}),
  });
}
