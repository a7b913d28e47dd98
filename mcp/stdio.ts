/**
 * `laneboard mcp`: the MCP server over stdio, for clients that start it as a subprocess
 * (Claude Code's `--mcp-config`, Codex, editors). Its tools call the server found by the CLI's
 * discovery (URL and token). Resolves when the client closes the connection.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { LaneboardApi } from "@/client/laneboard-api";
import { createMcpServer } from "./server";

export async function serveMcpStdio(api: LaneboardApi): Promise<void> {
  const server = createMcpServer(api);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    process.stdin.once("end", resolve);
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
