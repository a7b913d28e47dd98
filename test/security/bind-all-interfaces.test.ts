/**
 * `--host 0.0.0.0`: the server serves other machines with the same tokens, warns at start that
 * the traffic (token included) is plain HTTP unless a TLS proxy is in front, and still answers
 * only to its own names (a rebinding Host is refused when bound wide too).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signal, startServer, type OwnServer } from "@/server/testing/server-process";
import { expectError, send } from "./harness";

let server: OwnServer;
let dataDir: string;

/** This machine's first non-loopback IPv4 address, if it has one (how another machine reaches it). */
const lanAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "laneboard-sec-wide-"));
  server = await startServer(0, dataDir, ["--host", "0.0.0.0"]);
});
afterAll(async () => {
  if (server) await signal(server.child);
  await rm(dataDir, { recursive: true, force: true });
});

describe("--host 0.0.0.0", () => {
  it("prints the board URL with the token and a warning that traffic is plain HTTP unless a TLS proxy is in front", async () => {
    // The warning goes to stderr, a pipe of its own: it may arrive after the URL line.
    const output = await server.printed(/WARNING: bound to/);
    expect(output).toContain(`Laneboard on http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(output).toMatch(/WARNING: bound to 0\.0\.0\.0, beyond this machine\. Traffic \(and the token\) travels as plain HTTP: put a TLS proxy in front/);
  });

  it("GET /api/v1/board without a token → 401; with the bearer token → 200 (loopback and, when the machine has one, its network address)", async () => {
    const bases = [`http://127.0.0.1:${server.port}`, ...(lanAddress ? [`http://${lanAddress}:${server.port}`] : [])];
    for (const base of bases) {
      expectError(await send(`${base}/api/v1/board`), 401, "unauthorized", base);
      expect((await send(`${base}/api/v1/board`, { headers: { authorization: `Bearer ${server.token}` } })).status, base).toBe(200);
      expectError(await send(`${base}/api/v1/lanes`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }), 401, "unauthorized", base);
    }
  });

  it("a state-changing call from a foreign Origin is still 403 with the token", async () => {
    const a = await send(`http://127.0.0.1:${server.port}/api/v1/lanes`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json", origin: "https://evil.example" },
      body: "{}",
    });
    expectError(a, 403, "forbidden");
  });
});
