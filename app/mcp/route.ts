import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { LaneboardClient } from "@/client/http";
import { laneboardApi } from "@/client/laneboard-api";
import { createMcpServer } from "@/mcp/server";
import { errorResponse } from "../api/_lib/handler";
import { AppError } from "@/lib/errors";

/**
 * POST|GET|DELETE /mcp: the MCP server over the streamable HTTP transport, stateless (a server
 * per request, JSON answers). A bearer token is required; each tool calls the API with it, so a
 * call outside the token's scope fails there as it would over HTTP.
 */
async function handle(req: Request): Promise<Response> {
  const auth = req.headers.get("authorization");
  const token = auth?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) return errorResponse(new AppError("unauthorized", "MCP needs Authorization: Bearer <token>"));
  const server = createMcpServer(laneboardApi(new LaneboardClient(new URL(req.url).origin, token)));
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    return await transport.handleRequest(req);
  } finally {
    void server.close();
  }
}

export const POST = handle;
export const GET = handle;
export const DELETE = handle;
