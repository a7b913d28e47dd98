/**
 * Laneboard as an MCP server (the official `@modelcontextprotocol/sdk`): tools for the whole
 * control loop and resources for the board and a lane's events, each a call to the HTTP API with
 * the caller's token, so MCP can do exactly what that token may do and nothing more.
 *
 * Tool inputs are the API's own zod schemas (the task packet, the prompt, kill and merge bodies);
 * the SDK validates arguments with them and answers a bad argument with a tool error naming the
 * field. An API failure is a tool error (`isError: true`) whose text and `structuredContent` are
 * the API's `{ error: { code, message, status } }`.
 */
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { awaitLane } from "@/client/await-lane";
import type { LaneboardApi } from "@/client/laneboard-api";
import { KillBodySchema, MergeBodySchema, RegisterRepoBodySchema } from "@/lib/api";
import { ApiError } from "@/lib/api-error";
import { AWAIT_TARGETS, AwaitTargetSchema, type AwaitTarget } from "@/lib/lane-await";
import { PageQuerySchema } from "@/lib/paging";
import { TaskPacketSchema } from "@/lib/task-packet";
import { PromptBodySchema } from "@/lib/worker-api";

const LaneIdShape = { laneId: z.string().min(1).max(200).describe("The lane's id (from create_lane or list_lanes)") };
/** Most log lines one call returns: a tool result lands in the model's context. */
export const MCP_MAX_LOG_LINES = 500;

const ok = (value: unknown): CallToolResult => ({
  content: [{ type: "text", text: JSON.stringify(value, null, 1) }],
  structuredContent: { result: value as Record<string, unknown> },
});

function toolError(err: unknown): CallToolResult {
  const body = err instanceof ApiError ? err.toJSON() : { error: { code: "internal", message: err instanceof Error ? err.message : String(err) } };
  return { isError: true, content: [{ type: "text", text: JSON.stringify(body) }], structuredContent: body };
}

/** Run an API call as a tool: its answer as the result, its ApiError as a tool error. */
const call = async (fn: () => Promise<unknown>): Promise<CallToolResult> => {
  try {
    return ok(await fn());
  } catch (err) {
    return toolError(err);
  }
};

/** A new MCP server whose tools and resources call the API through `api`. */
export function createMcpServer(api: LaneboardApi): McpServer {
  const server = new McpServer(
    { name: "laneboard", version: "0.1.0" },
    {
      instructions:
        "Laneboard runs coding agents in lanes (a branch, a worktree, a worker, checks). Loop: create_lane → await_lane (ready_for_prompt or finished) → get_lane / lane_summary / lane_last_error / lane_logs → prompt_lane for a follow-up, restart_lane or kill_lane → merge_readiness → merge_lane.",
    },
  );
  const tool = (name: string, description: string, inputSchema: z.ZodRawShape | z.ZodObject, run: (args: never) => Promise<unknown>, readOnly = false) =>
    server.registerTool(name, { description, inputSchema, annotations: { readOnlyHint: readOnly } }, ((args: never) => call(() => run(args))) as never);

  tool(
    "list_lanes",
    "One page of lanes (creation order) with state, worker state and summary (phase, blocker, next action): { items, next }; pass next as cursor for the following page.",
    { repoId: z.string().optional().describe("Only this repo's lanes"), ...PageQuerySchema.shape },
    (a: { repoId?: string; limit?: number; cursor?: string }) => api.lanePage(a),
    true,
  );
  tool("list_repos", "The registered repositories (their ids go in a task packet's `repo`).", {}, () => api.listRepos(), true);
  tool("register_repo", "Register a local git work tree so lanes can be created on it.", RegisterRepoBodySchema, (a: z.infer<typeof RegisterRepoBodySchema>) => api.registerRepo(a));
  tool("create_lane", "Create a lane from a task packet: a worktree on a new branch, queued for a worker. Returns the lane.", TaskPacketSchema, (packet: z.input<typeof TaskPacketSchema>) => api.createLane(packet));
  tool("get_lane", "A lane's state now: lane state, worker (state, session, usage, last error), summary, checks, merge readiness flags.", LaneIdShape, (a: { laneId: string }) => api.getLane(a.laneId), true);
  tool(
    "await_lane",
    "Wait (long poll, no polling needed) until the lane is in one of the states: ready_for_prompt (a prompt sent now is accepted), finished, ended (any end), stalled, or any lane or worker state. Returns { outcome: reached | ended (it ended otherwise) | timeout, matched, waitedMs, lane }; on timeout, call again.",
    {
      ...LaneIdShape,
      state: z.union([AwaitTargetSchema, z.array(AwaitTargetSchema).min(1)]).describe(`One or more of: ${AWAIT_TARGETS.join(", ")}`),
      timeoutSeconds: z.number().int().min(0).max(600).default(50).describe("Give up after this many seconds (keep it under your client's request timeout)"),
    },
    (a: { laneId: string; state: AwaitTarget | AwaitTarget[]; timeoutSeconds: number }) => awaitLane(api, a.laneId, [a.state].flat(), a.timeoutSeconds * 1000),
    true,
  );
  tool("prompt_lane", "Send a prompt to the lane's worker (it must be ready_for_prompt) or a follow-up to an ended claude/codex lane.", { ...LaneIdShape, ...PromptBodySchema.shape }, (a: { laneId: string; text: string }) => api.prompt(a.laneId, a.text));
  tool("lane_summary", "The lane's phase, last checkpoint, blocker and recommended next action, each with the event it came from.", LaneIdShape, (a: { laneId: string }) => api.summary(a.laneId), true);
  tool("lane_last_error", "The lane's newest failure, classified (failure class, reason, evidence), or null.", LaneIdShape, (a: { laneId: string }) => api.lastError(a.laneId), true);
  tool(
    "lane_logs",
    `The newest output lines of the lane's current attempt (at most ${MCP_MAX_LOG_LINES}).`,
    { ...LaneIdShape, limit: z.number().int().min(1).max(MCP_MAX_LOG_LINES).default(100).describe("Lines, newest last") },
    (a: { laneId: string; limit: number }) => api.laneLogs(a.laneId, a.limit),
    true,
  );
  tool("kill_lane", "Stop the lane: SIGTERM its processes, SIGKILL after the grace period.", { ...LaneIdShape, ...KillBodySchema.unwrap().shape }, (a: { laneId: string; graceMs?: number }) => api.kill(a.laneId, { graceMs: a.graceMs }));
  tool("restart_lane", "Run an ended lane again in the same worktree (a new attempt; history kept).", LaneIdShape, (a: { laneId: string }) => api.restart(a.laneId));
  tool("merge_readiness", "Whether the lane can merge now (green at its level, not stale, no conflict) and why not.", LaneIdShape, (a: { laneId: string }) => api.mergeReadiness(a.laneId), true);
  tool("merge_lane", "Merge the lane's branch into its base.", { ...LaneIdShape, ...MergeBodySchema.unwrap().shape }, (a: { laneId: string } & z.infer<typeof MergeBodySchema>) => {
    const { laneId, ...body } = a;
    return api.merge(laneId, body);
  });

  const json = (uri: URL, value: unknown) => ({ contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(value) }] });
  server.registerResource("board", "laneboard://board", { description: "Every repo and lane, and the event cursor of the snapshot", mimeType: "application/json" }, async (uri) =>
    json(uri, await api.client.request("GET", "/api/v1/board")),
  );
  server.registerResource(
    "lane-events",
    new ResourceTemplate("laneboard://lanes/{laneId}/events", { list: undefined }),
    { description: "A lane's newest 200 events, newest first (see docs/claws.md for the catalog)", mimeType: "application/json" },
    async (uri, vars) => json(uri, await api.events({ laneId: String(vars.laneId), order: "desc", limit: 200 })),
  );
  return server;
}
