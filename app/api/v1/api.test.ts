/**
 * The HTTP API through its real route handlers (the functions Next.js calls), against a real
 * runtime over a temp data dir and a real git repo.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isTerminal, runtimePerFile, shellPacket, waitForLane, waitForOutput } from "@/server/testing/runtime-harness";
import { apiRequest } from "@/server/testing/auth";
import * as events from "./events/route";
import * as laneKill from "./lanes/[id]/kill/route";
import * as laneLogs from "./lanes/[id]/logs/route";
import * as laneRestart from "./lanes/[id]/restart/route";
import * as lane from "./lanes/[id]/route";
import * as lanes from "./lanes/route";
import * as repos from "./repos/route";

const h = runtimePerFile({}, { global: true });

const none = { params: Promise.resolve({}) };
const id = (laneId: string) => ({ params: Promise.resolve({ id: laneId }) });
const post = (url: string, body?: unknown) => apiRequest("POST", url, body);
const get = (url: string) => apiRequest("GET", url);

async function expectError(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error.message;
}

describe("repos", () => {
  it("POST /api/v1/repos – a path that does not exist", async () => {
    await expectError(await repos.POST(post("/api/v1/repos", { path: "/no/such/dir" }), none), 404, "not_found");
  });
  it("POST /api/v1/repos – a directory that is not a git repo", async () => {
    const dir = await fs.mkdtemp(path.join(h.dataDir, "plain-"));
    await expectError(await repos.POST(post("/api/v1/repos", { path: dir }), none), 422, "not_a_git_repo");
  });
  it("POST /api/v1/repos – body is not JSON", async () => {
    await expectError(await repos.POST(post("/api/v1/repos", "{nope"), none), 400, "bad_request");
  });
  it("POST /api/v1/repos – a body nested deeper than the limit is 400, not a 500", async () => {
    const deep = "[".repeat(5000) + "]".repeat(5000);
    expect((await expectError(await repos.POST(post("/api/v1/repos", `{"path":${deep}}`), none), 400, "bad_request"))).toContain("nests deeper");
  });
  it("POST /api/v1/repos – already registered", async () => {
    await expectError(await repos.POST(post("/api/v1/repos", { path: h.repoPath }), none), 409, "already_exists");
  });
  it("GET /api/v1/repos – lists the registered repo", async () => {
    const res = await repos.GET(get("/api/v1/repos"), none);
    expect(await res.json()).toEqual({ items: [expect.objectContaining({ id: h.repoId, path: h.repoPath, mainBranch: "main" })], next: null });
  });
});

describe("lanes", () => {
  it("POST /api/v1/lanes – invalid packet names every field at fault", async () => {
    const res = await lanes.POST(post("/api/v1/lanes", { objective: "", repo: h.repoId, branch: "-evil", worker: { engine: "shell" } }), none);
    const message = await expectError(res, 422, "invalid_input");
    expect(message).toContain("objective");
    expect(message).toContain("branch");
    expect(message).toContain("worker.command");
  });
  it("POST /api/v1/lanes – a branch that exists", async () => {
    await expectError(await lanes.POST(post("/api/v1/lanes", shellPacket(h.repoId, ["true"], { branch: "main" })), none), 409, "branch_exists");
  });
  it("POST /api/v1/lanes – unknown repo", async () => {
    await expectError(await lanes.POST(post("/api/v1/lanes", shellPacket("nope", ["true"])), none), 404, "not_found");
  });
  it("GET /api/v1/lanes/:id – unknown lane", async () => {
    await expectError(await lane.GET(get("/api/v1/lanes/nope"), id("nope")), 404, "not_found");
  });
  it("POST /api/v1/lanes/:id/kill – unknown lane", async () => {
    await expectError(await laneKill.POST(post("/api/v1/lanes/nope/kill"), id("nope")), 404, "not_found");
  });

  it("POST /api/v1/lanes → kill → restart → logs, and GET /api/v1/events resumes from a cursor", async () => {
    const cursor = (await (await events.GET(get("/api/v1/events?after=0&limit=5000"), none)).json()).cursor as number;
    const created = await lanes.POST(post("/api/v1/lanes", shellPacket(h.repoId, ["sh", "-c", "sleep 0.4; echo up; exec sleep 60"])), none);
    expect(created.status).toBe(201);
    const view = await created.json();
    await waitForLane(h.rt, view.id, (l) => l.state === "running");
    // "running" means spawned, not that the shell has printed yet: on a busy machine a kill at
    // once can land before `echo up` runs, and then there is no line to find below.
    await waitForOutput(h.rt, view.id, "up");

    const killed = await laneKill.POST(post(`/api/v1/lanes/${view.id}/kill`, { graceMs: 300 }), id(view.id));
    expect(killed.status).toBe(200);
    expect((await killed.json()).state).toBe("killed");
    await expectError(await laneKill.POST(post(`/api/v1/lanes/${view.id}/kill`), id(view.id)), 409, "not_running");

    const restarted = await laneRestart.POST(post(`/api/v1/lanes/${view.id}/restart`), id(view.id));
    expect(restarted.status).toBe(200);
    await waitForLane(h.rt, view.id, (l) => l.state === "running" && l.attempt === 2);
    await waitForOutput(h.rt, view.id, "up"); // the logs below are this attempt's
    await expectError(await laneRestart.POST(post(`/api/v1/lanes/${view.id}/restart`), id(view.id)), 409, "conflict");
    await h.rt.lanes.kill(view.id, { graceMs: 300 });
    await waitForLane(h.rt, view.id, isTerminal);

    const logs = await (await laneLogs.GET(get(`/api/v1/lanes/${view.id}/logs?limit=50`), id(view.id))).json();
    expect(logs.lines.map((l: { text: string }) => l.text)).toContain("up");
    await expectError(await laneLogs.GET(get(`/api/v1/lanes/${view.id}/logs?limit=-1`), id(view.id)), 422, "invalid_input");

    const page = await (await events.GET(get(`/api/v1/events?after=${cursor}&laneId=${view.id}&limit=5000`), none)).json();
    const types: string[] = page.events.map((e: { type: string }) => e.type);
    expect(types[0]).toBe("lane.created");
    expect(types.filter((t) => t === "lane.started")).toHaveLength(2);
    expect(types.filter((t) => t === "lane.killed")).toHaveLength(2);
    expect(page.events.every((e: { id: number }) => e.id > cursor)).toBe(true);
    const ids = page.events.map((e: { id: number }) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const rest = await (await events.GET(get(`/api/v1/events?after=${page.cursor}&laneId=${view.id}`), none)).json();
    expect(rest).toEqual({ events: [], cursor: page.cursor });
  });
});
