/**
 * E2E helpers: talk to the server's API and inspect real processes through /proc, so tests
 * check what the OS says, not what the UI claims.
 *
 * Specs import `test` and `expect` from here: its `request` fixture sends the admin token that
 * the server created in its data dir, and {@link openBoard} opens the board as a user does,
 * through the token URL (which sets the session cookie and redirects to the bare URL).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test as base, type APIRequestContext, type Page } from "@playwright/test";
import type { BoardResponse, LaneView, ProcessView } from "@/lib/api";
import { commitFile, initRepo } from "@/server/git/git.testing";
import { closeDatabase, openDatabase } from "@/server/store/db";
import { seedLanes } from "@/server/testing/seed-lanes";
import { readAdminToken } from "@/server/auth/admin-token";

/** The admin token of the server under test (`<LANEBOARD_E2E_DATA>/token`, created at its start). */
export function adminToken(dataDir = process.env.LANEBOARD_E2E_DATA): Promise<string> {
  if (!dataDir) throw new Error("LANEBOARD_E2E_DATA is not set (playwright.config.ts sets it)");
  return readAdminToken(dataDir);
}

export const test = base.extend({
  // Playwright's fixture callback (named `use` by its docs), not a React hook.
  request: async ({ playwright, baseURL }, provide) => {
    const ctx = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { authorization: `Bearer ${await adminToken()}` } });
    await provide(ctx);
    await ctx.dispose();
  },
  // Each test's browser starts as a user's does: by opening the board URL printed at start.
  page: async ({ page }, provide) => {
    await openBoard(page);
    await provide(page);
  },
});
export { expect };

/** Open `path` of the board through the token URL; resolves once redirected to `path` itself. */
export async function openBoard(page: Page, path = "/"): Promise<void> {
  await page.goto(`${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(await adminToken())}`);
  const at = new URL(page.url());
  expect(at.pathname + at.search).toBe(path);
}

export async function board(request: APIRequestContext): Promise<BoardResponse> {
  const res = await request.get("/api/v1/board");
  if (!res.ok()) throw new Error(`GET /api/v1/board → ${res.status()}`);
  return (await res.json()) as BoardResponse;
}

/**
 * Add `count` settled lanes, in a repo of their own registered through the API, to the e2e
 * server's database (a second SQLite connection; WAL lets the server read them at once).
 * Called again with the same prefix, it seeds nothing and returns the first call's repo.
 * @returns the repo's id
 */
export async function seedManyLanes(request: APIRequestContext, count: number, prefix: string): Promise<string> {
  const db = await openDatabase(process.env.LANEBOARD_E2E_DATA!);
  try {
    // Playwright runs a file's beforeAll again in the new worker it starts after a failed test;
    // the lanes of this prefix are then already there (their ids are fixed), so reuse them.
    const seeded = await db.lane.findUnique({ where: { id: `${prefix}-000000` }, select: { repoId: true } });
    if (seeded) return seeded.repoId;
    const dir = await mkdtemp(path.join(os.tmpdir(), `laneboard-e2e-${prefix}-`));
    await initRepo(dir);
    await commitFile(dir, "README.md", "many lanes\n", "init");
    const res = await request.post("/api/v1/repos", { data: { path: dir } });
    if (res.status() !== 201) throw new Error(`POST /api/v1/repos → ${res.status()}: ${await res.text()}`);
    const repoId = ((await res.json()) as { id: string }).id;
    await seedLanes(db, { repoId, count, worktreeRoot: path.join(dir, "wt"), prefix });
    return repoId;
  } finally {
    await closeDatabase(db);
  }
}

export async function lane(request: APIRequestContext, id: string): Promise<LaneView> {
  return (await (await request.get(`/api/v1/lanes/${id}`)).json()) as LaneView;
}

export async function processView(request: APIRequestContext, id: string): Promise<ProcessView> {
  return (await (await request.get(`/api/v1/processes/${id}`)).json()) as ProcessView;
}

/** Pids of every live process whose process group is `pgid` (field 5 of /proc/<pid>/stat). */
export function pidsInGroup(pgid: number): number[] {
  return groupMembers(pgid).map((m) => m.pid);
}

/**
 * Every live (not zombie) member of process group `pgid` with its state letter (`T`: stopped),
 * from /proc/<pid>/stat (proc(5): state is field 3, pgrp field 5).
 */
export function groupMembers(pgid: number): Array<{ pid: number; state: string }> {
  const out: Array<{ pid: number; state: string }> = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = fields[0]!;
    if (Number(fields[2]) === pgid && state !== "Z") out.push({ pid: Number(name), state });
  }
  return out;
}

export { sigkill, startServer, type OwnServer } from "@/server/testing/server-process";

/**
 * A new temp directory `<tmp>/<prefix>XXXXXX` with a tmpfs of `size` (mount(8) syntax: "32m")
 * mounted on it, for a spec that fills its server's data disk. Skips the test (visibly) where
 * mounting is not allowed (it needs root, as the test machines run).
 * @returns the directory, and `remove()` to unmount and delete it
 */
export function tmpfsDir(prefix: string, size: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "ignore" });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    test.skip(true, `cannot mount a tmpfs data dir here (needs root): ${(err as Error).message}`);
  }
  return {
    dir,
    remove: () => {
      execFileSync("umount", ["-l", dir], { stdio: "ignore" });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `fetch`, sent once more on a new connection when the first attempt got no answer because the
 * pooled keep-alive connection it went out on was being closed by the server (its keep-alive
 * timeout, 5 s, ran out at that moment: undici's `SocketError: other side closed`, code
 * `UND_ERR_SOCKET`; nodejs/undici#3141). Only requests that are safe to send twice are: GET and
 * HEAD, and any request carrying an `Idempotency-Key` (the server answers a repeat with the first
 * answer). Any other failure, and any answer, is passed on as it is.
 */
export async function fetchOnce(url: string, init: RequestInit = {}): Promise<Response> {
  const method = (init.method ?? "GET").toUpperCase();
  const repeatable = method === "GET" || method === "HEAD" || new Headers(init.headers).has("idempotency-key");
  try {
    return await fetch(url, init);
  } catch (err) {
    const code = (err as { cause?: { code?: unknown } }).cause?.code;
    if (!repeatable || code !== "UND_ERR_SOCKET") throw err;
    return fetch(url, init);
  }
}

/**
 * A JSON client of a server process a spec started itself (its own port and data dir), for specs
 * whose servers come and go: `url` and `token` are read at each call, so one client follows every
 * restart. Resolves with the parsed body. Requests go out through {@link fetchOnce}: pass
 * `idempotencyKey` for a POST that must survive a keep-alive connection closed under it.
 * @throws Error naming the method, path, status and body for any answer other than 2xx
 */
export function ownApi(at: () => { url: string; token: string }) {
  return async function api<T>(method: string, url: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    const { url: origin, token } = at();
    const headers: Record<string, string> = { "content-type": "application/json", authorization: `Bearer ${token}` };
    if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
    const res = await fetchOnce(origin + url, { method, body: body === undefined ? undefined : JSON.stringify(body), headers });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}
