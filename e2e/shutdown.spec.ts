/**
 * SIGTERM is prompt and honest, against a real server process: a client that holds a keep-alive
 * connection and keeps polling gets at most the answer in flight (with `Connection: close`) and
 * then a refused connection, a Socket.IO client loses its transport (so it reconnects by itself),
 * and the process is gone within the shutdown timeout; lanes created by requests sent before the
 * signal are complete after a restart, and nothing is left of a request refused after it.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { io } from "socket.io-client";
import type { LaneView } from "@/lib/api";
import type { Page } from "@/lib/paging";
import { expect, sigkill, startServer as startOwn, test, type OwnServer } from "./support";

const PORT = Number(process.env.LANEBOARD_E2E_PORT ?? 3917) + 2;
const base = `http://127.0.0.1:${PORT}`;
/** Slack for signal delivery and process teardown on a loaded 2-core machine, beyond the server's own deadline. */
const EXIT_SLACK_MS = 1500;

interface Answer {
  status: number;
  connection: string | undefined;
  /** Sent after the signal was sent (the server may still answer it as before the signal). */
  afterSignal: boolean;
  /** Sent after the server said it is shutting down: it began its shutdown before this request. */
  afterShutdownBegan: boolean;
}

/** The admin token of the data dir in use (servers on one data dir share it). */
let token = "";

async function startServer(...args: Parameters<typeof startOwn>): Promise<OwnServer> {
  const server = await startOwn(...args);
  token = server.token;
  return server;
}

function request(
  agent: http.Agent,
  method: string,
  url: string,
  body?: unknown,
  onSent?: () => void,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(base + url, { method, agent, headers: { authorization: `Bearer ${token}`, ...(data ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) } : {}) } }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (onSent) req.once("finish", onSent);
    req.end(data);
  });
}

function exited(s: OwnServer): Promise<number | null> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null) return resolve(s.child.exitCode);
    s.child.once("exit", (code) => resolve(code));
  });
}

let dataDir = "";
let repo = "";
const servers: OwnServer[] = [];
test.beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "laneboard-shutdown-"));
  repo = fs.mkdtempSync(path.join(os.tmpdir(), "laneboard-shutdown-repo-"));
  execFileSync("git", ["init", "-q", "--initial-branch=main", repo]);
  execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "--allow-empty", "-m", "init"]);
});
test.afterEach(async () => {
  for (const s of servers.splice(0)) await sigkill(s.child);
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(repo, { recursive: true, force: true });
});

test("SIGTERM with a client polling on a keep-alive connection: closed after its in-flight answer, sockets told to reconnect, exit within the timeout", async () => {
  const server = await startServer(PORT, dataDir, ["--shutdown-timeout-ms", "2000"]);
  servers.push(server);
  const socket = io(base, { transports: ["websocket"], reconnection: false, auth: { token } });
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const disconnected = new Promise<string>((resolve) => socket.once("disconnect", (reason) => resolve(reason)));

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const answers: Answer[] = [];
  let signalled = false;
  let signalAt = 0;
  const polling = (async () => {
    for (;;) {
      try {
        const afterSignal = signalled;
        const afterShutdownBegan = server.output().includes("SIGTERM: shutting down");
        const res = await request(agent, "GET", "/api/v1/board");
        answers.push({ status: res.status, connection: res.headers.connection, afterSignal, afterShutdownBegan });
      } catch (err) {
        return (err as NodeJS.ErrnoException).code;
      }
      if (answers.length === 20) {
        signalled = true;
        signalAt = Date.now();
        server.child.kill("SIGTERM");
      }
      if (answers.length > 10_000) return "never stopped";
    }
  })();
  const code = await exited(server);
  const exitMs = Date.now() - signalAt;
  const ended = await polling;
  agent.destroy();
  socket.close();

  expect(code).toBe(0);
  expect(exitMs).toBeLessThan(2000 + EXIT_SLACK_MS);
  expect(["ECONNREFUSED", "ECONNRESET"]).toContain(ended);
  // Before the signal: answered and kept alive.
  expect(answers.filter((a) => !a.afterSignal).every((a) => a.status === 200 && a.connection === "keep-alive")).toBe(true);
  // A signal is handled on the server's event loop, so a request sent right after it may still be
  // answered as before it (200, kept alive); the first answer after the server began its shutdown
  // says close, and nothing is answered on the connection after that.
  const late = answers.filter((a) => a.afterSignal);
  const firstClose = late.findIndex((a) => a.connection === "close");
  for (const a of late) expect([200, 503]).toContain(a.status);
  expect(late.every((a, i) => (firstClose < 0 || i < firstClose ? a.connection === "keep-alive" && a.status === 200 : i === firstClose))).toBe(true);
  // Sent once the server had said it was shutting down: never kept alive, and at most the one answer.
  expect(late.filter((a) => a.afterShutdownBegan).every((a) => a.connection === "close")).toBe(true);
  expect(late.filter((a) => a.afterShutdownBegan).length).toBeLessThanOrEqual(1);
  // A lost transport, not a server-side disconnect: Socket.IO clients reconnect by themselves.
  expect(await disconnected).toBe("transport close");
});

test("work accepted before SIGTERM is finished; a request after it is refused and leaves nothing", async () => {
  let server = await startServer(PORT, dataDir, ["--shutdown-timeout-ms", "20000"]);
  servers.push(server);
  const agent = new http.Agent({ keepAlive: false });
  const { id: repoId } = JSON.parse((await request(agent, "POST", "/api/v1/repos", { path: repo })).text) as { id: string };
  const packet = (n: number) => ({ objective: `lane ${n}`, repo: repoId, branch: `lane/shutdown-${n}`, worker: { engine: "shell", command: ["true"] } });
  const sent: Promise<void>[] = [];
  const before = [1, 2, 3, 4].map((n) => {
    let onSent!: () => void;
    sent.push(new Promise<void>((resolve) => (onSent = resolve)));
    return request(agent, "POST", "/api/v1/lanes", packet(n), onSent).then((r) => r.status, (err: NodeJS.ErrnoException) => err.code);
  });
  // The requests are on the wire (their bodies written), and the server has taken up at least one
  // (its lane row exists), before the signal: bytes on the wire alone may still be unread when the
  // signal lands, and such a request is rightly refused, so without this wait every one could be.
  await Promise.all(sent);
  await expect
    .poll(async () => (JSON.parse((await request(agent, "GET", "/api/v1/lanes")).text) as Page<LaneView>).items.length, { timeout: 60_000 })
    .toBeGreaterThan(0);
  server.child.kill("SIGTERM");
  const after = await request(agent, "POST", "/api/v1/lanes", packet(5)).then((r) => r.status, (err: NodeJS.ErrnoException) => err.code);
  const answered = await Promise.all(before);
  expect(await exited(server)).toBe(0);
  // Each is either done (201) or refused cleanly: a 503, or a connection the server closed before reading it.
  for (const a of answered) expect([201, 503, "ECONNRESET"]).toContain(a);
  expect(answered.filter((a) => a === 201).length).toBeGreaterThan(0);
  expect([503, "ECONNREFUSED", "ECONNRESET"]).toContain(after);

  server = await startServer(PORT, dataDir);
  servers.push(server);
  const lanes = (JSON.parse((await request(agent, "GET", "/api/v1/lanes")).text) as Page<LaneView>).items;
  const done = answered.flatMap((a, i) => (a === 201 ? [`lane/shutdown-${i + 1}`] : []));
  expect(lanes.map((l) => l.branch).sort()).toEqual(done);
  for (const l of lanes) expect(fs.existsSync(l.worktreePath!)).toBe(true);
  const branches = execFileSync("git", ["-C", repo, "branch", "--list", "lane/shutdown-*"], { encoding: "utf8" });
  // Nothing is left of a refused request: no branch without its lane.
  expect(branches.split("\n").map((b) => b.replace(/^[*+ ]+/, "").trim()).filter(Boolean).sort()).toEqual(done);
});
