/**
 * The security suite's server: the real server process (`server/main.ts` in production mode, as
 * `npm start` runs it; server/testing/server-process.ts) on a free port with a temp data dir, a
 * real git repo registered, a lane running `sleep` as the target of the attacks, and the
 * admin's board session cookie, obtained through the token URL as a browser gets it.
 *
 * Attacks are judged by what they change: {@link SecurityServer.fingerprint} reads the server's
 * state through its own API (newest event, lanes and their states, repos, tokens, scheduler
 * settings, the repo's policy and webhooks), and every attack packet's command would create
 * {@link SecurityServer.marker}: an attack that ran anything leaves the file behind.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { SESSION_COOKIE } from "@/lib/auth";
import { commitFile, initRepo } from "@/server/git/git.testing";
import { signal, startServer, type OwnServer, type StartServerOptions } from "@/server/testing/server-process";

/** An HTTP answer, read whole. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface SecurityServer {
  server: OwnServer;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** The admin token. */
  token: string;
  /** `Cookie` header value of the admin's board session. */
  cookie: string;
  dataDir: string;
  repoDir: string;
  repoId: string;
  /** A lane running `sleep 600` (pid and state must survive every attack). */
  laneId: string;
  /** Its worker's process id. */
  processId: string;
  /** A file that exists only if an attack ran a command. */
  marker: string;
  /** A task packet that would create {@link marker}. */
  attackPacket(branch?: string): Record<string, unknown>;
  /** Call the API as the admin (bearer); `init.headers` add to or override. */
  api(pathname: string, init?: RequestInit): Promise<Answer>;
  /**
   * The server's state, read through its API (see the module docs). `events: false` leaves out
   * the newest event, for attacks whose refusal is itself recorded (a rejected policy).
   */
  fingerprint(opts?: { events?: boolean }): Promise<string>;
  /** Stop the server (SIGTERM; lanes are killed) and remove the temp dirs. */
  stop(): Promise<void>;
}

/** One operation of the served OpenAPI document, its path parameters filled with real ids. */
export interface Operation {
  method: string;
  path: string;
  /** Its `x-scope`: the token scope it needs. */
  scope: string;
}

/**
 * Every operation the server documents (`GET /api/v1/openapi.json`), so that a route added later
 * is attacked without touching the suite. A `{param}` after `/<collection>/` becomes `ids[collection]`.
 * @throws Error when an operation's path has a parameter `ids` has no value for
 */
export async function operations(s: SecurityServer, ids: Record<string, string>): Promise<Operation[]> {
  const doc = (await s.api("/api/v1/openapi.json")).json as { paths: Record<string, Record<string, { "x-scope"?: string }>> };
  return Object.entries(doc.paths).flatMap(([template, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      scope: op["x-scope"] ?? "",
      path: template.replace(/\/([A-Za-z]+)\/\{[^}]+\}/g, (_, coll: string) => {
        if (!ids[coll]) throw new Error(`no id for the ${coll} of ${template}: add one to the suite`);
        return `/${coll}/${ids[coll]}`;
      }),
    })),
  );
}

/** `fetch` and read the whole answer. */
export async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { redirect: "manual", ...init });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Assert the answer is `status` with the API's error shape `{ error: { code, message } }`. */
export function expectError(answer: Answer, status: number, code: string, label = ""): void {
  expect({ status: answer.status, body: answer.json }, `${label} ${answer.text.slice(0, 300)}`).toEqual({
    status,
    body: { error: expect.objectContaining({ code, message: expect.stringMatching(/\S/) }) },
  });
}

/**
 * Start the server with a repo and a running lane.
 * @param extraArgs more server options; `opts.env` more environment (e.g. model API keys to redact)
 */
export async function startSecurityServer(extraArgs: string[] = [], opts: StartServerOptions = {}): Promise<SecurityServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "laneboard-sec-data-"));
  const repoDir = await mkdtemp(path.join(os.tmpdir(), "laneboard-sec-repo-"));
  const marker = path.join(dataDir, "attack-ran");
  await initRepo(repoDir);
  await commitFile(repoDir, "README.md", "target\n", "init");
  const server = await startServer(0, dataDir, ["--kill-on-exit", "--kill-grace-ms", "200", ...extraArgs], opts);
  const base = server.url;
  const token = server.token;
  const api = (pathname: string, init: RequestInit = {}) =>
    send(base + pathname, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...(init.headers as Record<string, string>) },
    });

  const repo = await api("/api/v1/repos", { method: "POST", body: JSON.stringify({ path: repoDir }) });
  expect(repo.status, repo.text).toBe(201);
  const repoId = (repo.json as { id: string }).id;
  const packet = (branch: string, command: string[]) => ({ objective: "security suite target", repo: repoId, branch, worker: { engine: "shell", command } });
  const lane = await api("/api/v1/lanes", { method: "POST", body: JSON.stringify(packet("target/sleep", ["sleep", "600"])) });
  expect(lane.status, lane.text).toBe(201);
  const laneId = (lane.json as { id: string }).id;
  // The worker is started by the scheduler: wait for it with the long poll, not a sleep.
  const running = await api(`/api/v1/lanes/${laneId}/await?state=running&timeoutMs=60000`);
  expect((running.json as { outcome: string }).outcome, running.text).toBe("reached");
  const processId = (await api(`/api/v1/lanes/${laneId}`)).json as { currentProcessId: string | null };
  expect(processId.currentProcessId).toBeTruthy();

  const entry = await send(`${base}/?token=${encodeURIComponent(token)}`);
  const cookie = /^[^;]+/.exec(entry.headers.get("set-cookie") ?? "")?.[0] ?? "";
  expect(cookie.startsWith(`${SESSION_COOKIE}=`), `token URL answered ${entry.status}`).toBe(true);

  const json = async (pathname: string) => JSON.stringify((await api(pathname)).json);
  return {
    server,
    base,
    token,
    cookie,
    dataDir,
    repoDir,
    repoId,
    laneId,
    processId: processId.currentProcessId!,
    marker,
    attackPacket: (branch = "attack/one") => packet(branch, ["touch", marker]),
    api,
    async fingerprint({ events = true } = {}) {
      const lanes = (await api("/api/v1/lanes?limit=500")).json as { items: Array<{ id: string; state: string }> };
      const parts = await Promise.all([
        events ? json("/api/v1/events?order=desc&limit=1") : "",
        JSON.stringify(lanes.items.map((l) => `${l.id}:${l.state}`)),
        json("/api/v1/repos"),
        json("/api/v1/tokens"),
        json("/api/v1/scheduler/caps"),
        json("/api/v1/scheduler/budgets"),
        json("/api/v1/scheduler/limits"),
        json(`/api/v1/repos/${repoId}/policy`),
        // Ids and targets only: deliveries move on their own (retries).
        api(`/api/v1/repos/${repoId}/webhooks`).then((a) => JSON.stringify((a.json as { webhooks: Array<{ id: string; url: string }> }).webhooks.map((w) => `${w.id}:${w.url}`))),
      ]);
      return [...parts, `marker:${existsSync(marker)}`].join("\n");
    },
    async stop() {
      await signal(server.child);
      await rm(dataDir, { recursive: true, force: true });
      await rm(repoDir, { recursive: true, force: true });
    },
  };
}
