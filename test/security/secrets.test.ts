/**
 * Attack: reading the server's secrets through what it shows or what it starts. The server runs
 * with model API keys in its environment and a configured Laneboard key; a shell lane and its
 * acceptance check print their whole environment, and a lane whose command and env carry the
 * admin token and key-shaped values is read back through every view (process, lane, events,
 * Socket.IO). No view shows a key or token, and no lane that does not need a key gets one.
 */
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientToServerEvents, ServerToClientEvents } from "@/lib/socket-events";
import { startSecurityServer, type SecurityServer } from "./harness";

const KEYS = {
  ANTHROPIC_API_KEY: "sk-ant-server-anthropic-AAAAAAAAAAAAAAAA",
  OPENAI_API_KEY: "sk-server-openai-BBBBBBBBBBBBBBBBBBBB",
  LANEBOARD_ANTHROPIC_API_KEY: "configured-laneboard-key-CCCCCCCCCCCC",
};

let s: SecurityServer;
let socket: Socket<ServerToClientEvents, ClientToServerEvents>;
/** Every `lane:event` message the admin's socket received, as JSON. */
const heard: string[] = [];

/** True when `text` holds any of the server's keys, the admin token, or `extra`. */
const leaks = (text: string, extra: string[] = []) => [...Object.values(KEYS), s.token, ...extra].filter((secret) => text.includes(secret));

async function finished(laneId: string): Promise<void> {
  const done = await s.api(`/api/v1/lanes/${laneId}/await?state=finished,failed&timeoutMs=60000`);
  expect((done.json as { outcome: string }).outcome, done.text).toBe("reached");
}

beforeAll(async () => {
  s = await startSecurityServer([], { env: KEYS });
  socket = connect(s.base, { transports: ["websocket"], reconnection: false, auth: { token: s.token } });
  socket.on("lane:event", (e) => heard.push(JSON.stringify(e)));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
});
afterAll(async () => {
  socket?.close();
  await s?.stop();
});

describe("secrets", () => {
  it("a shell lane and its acceptance check get none of the server's API keys: `env` prints neither their names nor their values", async () => {
    const packet = { objective: "print env", repo: s.repoId, branch: "lane/env", worker: { engine: "shell", command: ["env"] }, acceptance: [{ level: "targeted", argv: ["env"] }] };
    const created = await s.api("/api/v1/lanes", { method: "POST", body: JSON.stringify(packet) });
    expect(created.status, created.text).toBe(201);
    const laneId = (created.json as { id: string }).id;
    await finished(laneId);
    const logs = await s.api(`/api/v1/lanes/${laneId}/logs?limit=5000`);
    expect(logs.status).toBe(200);
    // The log is really the environment (the lane printed it), just without the keys.
    expect(logs.text).toContain("PATH=");
    expect(leaks(logs.text)).toEqual([]);
    for (const name of Object.keys(KEYS)) expect(logs.text).not.toContain(`${name}=`);
  });

  it("a command and env carrying the admin token and key-shaped values: the process, lane, attempts, checks and log-download views, events and socket messages show [redacted]", async () => {
    const inArgv = "sk-ant-in-the-command-DDDDDDDDDDDD";
    const inEnv = "sk-proj-in-the-env-EEEEEEEEEEEEEEEEEEEE";
    const packet = {
      objective: "carry secrets",
      repo: s.repoId,
      branch: "lane/secrets",
      worker: { engine: "shell", command: ["sh", "-c", "exit 0", "curl", "-H", `Authorization: Bearer ${s.token}`, inArgv], env: { DEPLOY_TOKEN: "plain-but-named-token-value", OTHER: inEnv } },
      acceptance: [{ level: "targeted", argv: ["sh", "-c", "exit 1", "deploy", `--token=${s.token}`, inArgv] }],
    };
    const created = await s.api("/api/v1/lanes", { method: "POST", body: JSON.stringify(packet) });
    expect(created.status, created.text).toBe(201);
    const laneId = (created.json as { id: string }).id;
    await finished(laneId);
    const lane = await s.api(`/api/v1/lanes/${laneId}`);
    const processId = (lane.json as { currentProcessId: string | null }).currentProcessId ?? ((await s.api(`/api/v1/lanes/${laneId}/attempts`)).text.match(/"processId":"([^"]+)"/)?.[1] ?? "");
    const process = await s.api(`/api/v1/processes/${processId}`);
    expect(process.status, process.text).toBe(200);
    expect(process.text).toContain("[redacted]");
    const views = [
      process.text,
      lane.text,
      (await s.api(`/api/v1/lanes/${laneId}/summary`)).text,
      (await s.api(`/api/v1/lanes/${laneId}/attempts`)).text,
      (await s.api(`/api/v1/lanes/${laneId}/logs/download`)).text,
      (await s.api(`/api/v1/lanes/${laneId}/checks`)).text,
      (await s.api(`/api/v1/events?laneId=${laneId}&limit=500`)).text,
      (await s.api("/api/v1/board")).text,
      heard.filter((m) => m.includes(laneId)).join("\n"),
    ];
    expect(heard.some((m) => m.includes(laneId))).toBe(true);
    for (const [i, text] of views.entries()) expect(leaks(text, [inArgv, inEnv, "plain-but-named-token-value"]), `view ${i}`).toEqual([]);
  });
});
