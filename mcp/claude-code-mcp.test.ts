/**
 * A claw driving Laneboard through MCP alone: the real Claude Code CLI (the npm dev dependency)
 * is given Laneboard's MCP server (streamable HTTP at /mcp, with a token) and talks to the local
 * model server, whose scripted conversation makes it create a lane, await it and read its
 * result. Everything it learns comes back through MCP tool results: the script reads the lane id
 * from the create_lane result, as a model would.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LaneView } from "@/lib/api";
import { defaultClaudeBin } from "@/server/engines/engine-env";
import { startModelServer, type ModelServer } from "@/server/model-server/model-server";
import type { ScriptRequest, ScriptTurn } from "@/server/model-server/script";
import { shellPacketFor, startHttpRuntime, type HttpTestRuntime } from "@/app/api/_testing/route-server";

let h: HttpTestRuntime;
let model: ModelServer;
let dir: string;
beforeAll(async () => {
  h = await startHttpRuntime();
  dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-claw-"));
});
afterAll(async () => {
  await model?.close();
  await h.close();
  await rm(dir, { recursive: true, force: true });
});

const TOOL = (name: string) => `mcp__laneboard__${name}`;
const MARK = "claw-result-42";

/**
 * The model's side of the conversation, decided from what the last tool result says (as a model
 * would): no Laneboard tools yet → wait for MCP servers (Claude Code connects them in the
 * background and offers `WaitForMcpServers` meanwhile); nothing from Laneboard yet → create the
 * lane; a lane → await it; an await result that reached the state → read its logs; logs → answer.
 */
let created = 0;
function claw(req: ScriptRequest): ScriptTurn {
  if (!req.tools.some((t) => t.name === TOOL("create_lane"))) {
    return req.tools.some((t) => t.name === "WaitForMcpServers") ? { toolCalls: [{ name: "WaitForMcpServers", input: {} }] } : { text: "Laneboard's tools are missing." };
  }
  let last: Record<string, unknown> = {};
  try {
    // Claude Code hands the model a tool's structured content: Laneboard's is `{ result }`.
    last = (JSON.parse(req.toolResults[0]?.text ?? "{}") as { result?: Record<string, unknown> }).result ?? {};
  } catch {
    // Not one of Laneboard's results (e.g. WaitForMcpServers' text).
  }
  if ("branch" in last) return { text: "Waiting for it to finish.", toolCalls: [{ name: TOOL("await_lane"), input: { laneId: (last as LaneView).id, state: "finished", timeoutSeconds: 120 } }] };
  if (last.outcome === "reached") return { text: "Reading its output.", toolCalls: [{ name: TOOL("lane_logs"), input: { laneId: (last as { lane: LaneView }).lane.id, limit: 20 } }] };
  if ("lines" in last) return { text: `The lane printed: ${(last.lines as { text: string }[]).map((l) => l.text).join(" | ")}` };
  // Create the lane once; anything unexpected after that ends the conversation instead of looping.
  if (created++) return { text: `Unexpected tool result: ${req.toolResults[0]?.text.slice(0, 200)}` };
  return { text: "Creating the lane.", toolCalls: [{ name: TOOL("create_lane"), input: { ...shellPacketFor(h, ["sh", "-c", `echo ${MARK}`]), objective: "print the answer" } }] };
}

describe("Claude Code drives Laneboard through MCP", () => {
  it("creates a lane, awaits it and reads its result through Laneboard's MCP tools", { timeout: 300_000 }, async () => {
    model = await startModelServer({ script: claw });
    const home = path.join(dir, "home");
    await execa("mkdir", ["-p", home]);
    await writeFile(path.join(home, ".claude.json"), JSON.stringify({ hasCompletedOnboarding: true }));
    const mcpConfig = path.join(dir, "mcp.json");
    await writeFile(mcpConfig, JSON.stringify({ mcpServers: { laneboard: { type: "http", url: `${h.url}/mcp`, headers: { Authorization: h.headers.authorization } } } }));
    const allowed = [...["create_lane", "await_lane", "lane_logs"].map(TOOL), "WaitForMcpServers"].join(",");
    const run = await execa(
      defaultClaudeBin(),
      ["-p", "Use Laneboard to run a lane that prints the answer, wait for it, and tell me what it printed.", "--output-format", "stream-json", "--verbose", "--mcp-config", mcpConfig, "--strict-mcp-config", "--allowedTools", allowed],
      {
        cwd: dir,
        reject: false,
        stdin: "ignore",
        timeout: 240_000,
        env: { HOME: home, ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: "local", DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", MCP_TIMEOUT: "60000", MCP_TOOL_TIMEOUT: "180000" },
        extendEnv: false,
      },
    );
    const lines = run.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const init = lines.find((l) => l.type === "system" && l.subtype === "init") as { mcp_servers?: { name: string; status: string }[] } | undefined;
    // Claude Code connects MCP servers in the background: at init it may still be connecting.
    expect(init?.mcp_servers).toEqual([{ name: "laneboard", status: expect.stringMatching(/^(pending|connected)$/) }]);
    const result = lines.find((l) => l.type === "result") as { is_error: boolean; result: string; num_turns: number } | undefined;
    expect(run.exitCode, run.stderr).toBe(0);
    expect(result).toMatchObject({ is_error: false, result: expect.stringContaining(MARK) });

    // The model was sent real MCP results: the lane, then its settled state, then its logs.
    const turns = model.requests.filter((r) => r.toolResults?.length && r.toolResults[0]!.text.startsWith("{"));
    expect(turns.map((r) => r.toolResults![0]!.isError)).toEqual([false, false, false]);
    const lane = JSON.parse(turns[0]!.toolResults![0]!.text).result as LaneView;
    expect(JSON.parse(turns[1]!.toolResults![0]!.text).result).toMatchObject({ outcome: "reached", matched: ["finished"], lane: { id: lane.id, state: "finished" } });
    // And the lane is real: created, run and finished by the runtime.
    expect(await h.rt.lanes.get(lane.id)).toMatchObject({ state: "finished", lastExitCode: 0 });
  });
});
