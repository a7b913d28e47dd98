/**
 * Laneboard's MCP server through the official SDK's client, over both transports: `laneboard mcp`
 * (the real bin, stdio) and the streamable HTTP endpoint `/mcp`, against the real route handlers
 * and a real runtime.
 */
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LaneView } from "@/lib/api";
import { startHttpRuntime, shellPacketFor, type HttpTestRuntime } from "@/app/api/_testing/route-server";

const BIN = path.resolve(import.meta.dirname, "../bin/laneboard.mjs");
let h: HttpTestRuntime;
let stdio: Client;
beforeAll(async () => {
  h = await startHttpRuntime();
  stdio = new Client({ name: "test", version: "1" });
  await stdio.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, "--url", h.url, "--token", h.rt.auth.adminToken, "mcp"], stderr: "inherit" }));
});
afterAll(async () => {
  await stdio.close();
  await h.close();
});

type ToolResult = { isError?: boolean; content: { type: string; text: string }[]; structuredContent?: Record<string, unknown> };
const callTool = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as ToolResult;
const result = <T>(r: ToolResult) => (r.structuredContent as { result: T }).result;

describe("MCP server", { timeout: 300_000 }, () => {
  it("laneboard mcp (stdio) – lists the control-loop tools and resources", async () => {
    const { tools } = await stdio.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      ["await_lane", "create_lane", "get_lane", "kill_lane", "lane_last_error", "lane_logs", "lane_summary", "list_lanes", "list_repos", "merge_lane", "merge_readiness", "prompt_lane", "register_repo", "restart_lane"].sort(),
    );
    // The task packet's own schema is the tool's input.
    const create = tools.find((t) => t.name === "create_lane")!;
    expect(create.inputSchema.required).toEqual(expect.arrayContaining(["objective", "repo", "branch", "worker"]));
    const { resources } = await stdio.listResources();
    expect(resources.map((r) => r.uri)).toContain("laneboard://board");
    const { resourceTemplates } = await stdio.listResourceTemplates();
    expect(resourceTemplates.map((r) => r.uriTemplate)).toContain("laneboard://lanes/{laneId}/events");
  });

  it("laneboard mcp (stdio) – create_lane, await_lane, get_lane, lane_logs, lane_summary, a lane's events resource", async () => {
    const created = await callTool(stdio, "create_lane", shellPacketFor(h, ["sh", "-c", "echo via mcp"]));
    expect(created.isError).toBeFalsy();
    const lane = result<LaneView>(created);
    const awaited = await callTool(stdio, "await_lane", { laneId: lane.id, state: "finished", timeoutSeconds: 50 });
    expect(awaited.isError, awaited.content[0]?.text).toBeFalsy();
    expect(result(awaited)).toMatchObject({ outcome: "reached", matched: ["finished"], lane: { id: lane.id, state: "finished" } });
    const either = await callTool(stdio, "await_lane", { laneId: lane.id, state: ["ready_for_prompt", "ended"], timeoutSeconds: 5 });
    expect(result(either)).toMatchObject({ outcome: "reached", matched: ["ended"] });
    // list_lanes pages: with two lanes, a page of one has a cursor to the rest.
    const other = result<LaneView>(await callTool(stdio, "create_lane", shellPacketFor(h, ["true"])));
    const first = result<{ items: LaneView[]; next: string | null }>(await callTool(stdio, "list_lanes", { limit: 1 }));
    expect(first.items).toHaveLength(1);
    expect(first.next).toEqual(expect.any(String));
    const rest = result<{ items: LaneView[] }>(await callTool(stdio, "list_lanes", { limit: 1000, cursor: first.next }));
    expect([...first.items, ...rest.items].map((l) => l.id)).toEqual(expect.arrayContaining([lane.id, other.id]));
    expect(result(await callTool(stdio, "get_lane", { laneId: lane.id }))).toMatchObject({ id: lane.id, state: "finished" });
    const logs = result<{ lines: { text: string }[] }>(await callTool(stdio, "lane_logs", { laneId: lane.id, limit: 10 }));
    expect(logs.lines.map((l) => l.text)).toContain("via mcp");
    expect(result(await callTool(stdio, "lane_summary", { laneId: lane.id }))).toMatchObject({ phase: "finished" });
    const events = await stdio.readResource({ uri: `laneboard://lanes/${lane.id}/events` });
    const parsed = JSON.parse((events.contents[0] as { text: string }).text) as { events: { id: number; type: string }[] };
    // Newest first. Freshness may still report the branch after the lane finished, so the
    // closing event is not necessarily the newest one.
    expect(parsed.events.map((e) => e.type)).toContain("lane.finished");
    expect(parsed.events.map((e) => e.id)).toEqual([...parsed.events.map((e) => e.id)].sort((a, b) => b - a));
  });

  it("laneboard mcp (stdio) – a bad argument is a tool error naming the field; an API failure a tool error with the API's code", async () => {
    const bad = await callTool(stdio, "create_lane", { ...shellPacketFor(h, ["true"]), branch: "-evil" });
    expect(bad.isError).toBe(true);
    expect(bad.content[0]!.text).toContain("branch");
    const limit = await callTool(stdio, "lane_logs", { laneId: "x", limit: 100_000 });
    expect(limit.isError).toBe(true);
    expect(limit.content[0]!.text).toContain("limit");
    const missing = await callTool(stdio, "get_lane", { laneId: "no-such-lane" });
    expect(missing.isError).toBe(true);
    expect(missing.structuredContent).toMatchObject({ error: { code: "not_found", status: 404 } });
    const refused = await callTool(stdio, "prompt_lane", { laneId: result<LaneView>(await callTool(stdio, "create_lane", shellPacketFor(h, ["true"]))).id, text: "hi" });
    expect(refused.isError).toBe(true);
    expect((refused.structuredContent as { error: { code: string } }).error.code).toMatch(/not_ready|not_supported/);
  });

  it("POST /mcp – streamable HTTP with a bearer token: tools and the board resource; without a token 401", async () => {
    const anonymous = await fetch(`${h.url}/mcp`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error.code).toBe("unauthorized");

    const http = new Client({ name: "test-http", version: "1" });
    await http.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), { requestInit: { headers: h.headers } }));
    try {
      const repos = result<{ id: string }[]>(await callTool(http, "list_repos", {}));
      expect(repos.map((r) => r.id)).toContain(h.repoId);
      const board = await http.readResource({ uri: "laneboard://board" });
      expect(JSON.parse((board.contents[0] as { text: string }).text)).toMatchObject({ repos: expect.any(Array), lanes: expect.any(Array) });
    } finally {
      await http.close();
    }
  });
});
