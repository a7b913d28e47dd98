/**
 * Test helper: a real HTTP server on 127.0.0.1 (port 0) with the request guard in front of a tiny
 * application that records each request it is handed and answers "app" once it has read the body.
 * Not imported by runtime code.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { AuthService } from "../auth/auth-service";
import { OriginPolicy } from "./origin-policy";
import { createRequestGuard } from "./request-guard";

export interface GuardedApp {
  /** `127.0.0.1:<port>`, as a client sends it in Host. */
  host: string;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** `METHOD /path` of every request the guard let through, in order. */
  reached: string[];
  close(): Promise<void>;
}

/** Start the guarded application; `token` is the admin token the guard accepts. */
export async function startGuardedApp(token: string): Promise<GuardedApp> {
  const guard = createRequestGuard({ auth: new AuthService(token), origins: new OriginPolicy({ bindHost: "127.0.0.1" }) });
  const reached: string[] = [];
  const server = createServer((req, res) => {
    if (guard(req, res)) return;
    reached.push(`${req.method} ${req.url}`);
    req.resume();
    req.on("end", () => res.end("app"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, base: `http://${host}`, reached, close: () => new Promise<void>((r) => server.close(() => r())) };
}
