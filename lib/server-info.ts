/**
 * Files in the data directory that let local clients (the CLI, `laneboard mcp`) find a running
 * server without flags: `server.json` (its URL, written at start and removed at a clean stop)
 * and `token` (the admin token, created by the server at first start, mode 0600).
 */
import { z } from "zod";

export const SERVER_INFO_FILE = "server.json";
export const TOKEN_FILE = "token";

/** `<data-dir>/server.json`. */
export const ServerInfoSchema = z.object({ url: z.string().url(), pid: z.number().int(), startedAt: z.string() });
export type ServerInfo = z.infer<typeof ServerInfoSchema>;
