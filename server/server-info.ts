/**
 * `<data-dir>/server.json` (lib/server-info.ts): written once the server listens, so the CLI and
 * `laneboard mcp` started with the same data dir find it; removed at a clean stop if it is still ours.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SERVER_INFO_FILE, ServerInfoSchema, type ServerInfo } from "@/lib/server-info";

/** Write the file (mode 0600) and return what was written. `url` is the origin clients should use. */
export function writeServerInfo(dataDir: string, url: string): ServerInfo {
  // A wildcard bind address is not an address to connect to: local clients use loopback.
  const connectUrl = url.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://[::1]:");
  const info: ServerInfo = { url: connectUrl, pid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(path.join(dataDir, SERVER_INFO_FILE), `${JSON.stringify(info)}\n`, { mode: 0o600 });
  return info;
}

/** Remove the file unless another server has replaced it since. Never throws. */
export function removeServerInfo(dataDir: string, ours: ServerInfo): void {
  const file = path.join(dataDir, SERVER_INFO_FILE);
  try {
    const current = ServerInfoSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (current.success && current.data.pid === ours.pid && current.data.startedAt === ours.startedAt) rmSync(file, { force: true });
  } catch {
    // Already gone or unreadable: nothing of ours to remove.
  }
}
