/**
 * Where the server is and which token to use, for clients started beside it (the CLI, the MCP
 * server over stdio). First match wins:
 * - URL: `--url`, `LANEBOARD_URL`, the `url` in `<data-dir>/server.json` (written by a running
 *   server), else `http://127.0.0.1:3000`;
 * - token: `--token`, `LANEBOARD_TOKEN`, the file `<data-dir>/token` (the admin token the server
 *   creates at first start), else none;
 * - data dir: `--data-dir`, `LANEBOARD_DATA_DIR`, else `./.laneboard` (as the server).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { SERVER_INFO_FILE, ServerInfoSchema, TOKEN_FILE } from "@/lib/server-info";

export interface Discovered {
  url: string;
  token: string | null;
  dataDir: string;
  /** Where each came from, for `--json` diagnostics and error messages. */
  source: { url: "flag" | "env" | "data-dir" | "default"; token: "flag" | "env" | "data-dir" | "none" };
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

function parseJson(text: string | null): unknown {
  try {
    return text === null ? null : JSON.parse(text);
  } catch {
    return null;
  }
}

/** Resolve URL, token and data dir from flags, then `env`, then the data dir. Reads files; never throws. */
export function discover(flags: { url?: string; token?: string; dataDir?: string }, env: NodeJS.ProcessEnv = process.env): Discovered {
  const dataDir = path.resolve(flags.dataDir ?? env.LANEBOARD_DATA_DIR ?? "./.laneboard");
  let url: string;
  let urlSource: Discovered["source"]["url"];
  if (flags.url) [url, urlSource] = [flags.url, "flag"];
  else if (env.LANEBOARD_URL) [url, urlSource] = [env.LANEBOARD_URL, "env"];
  else {
    const info = ServerInfoSchema.safeParse(parseJson(readText(path.join(dataDir, SERVER_INFO_FILE))));
    [url, urlSource] = info.success ? [info.data.url, "data-dir"] : ["http://127.0.0.1:3000", "default"];
  }
  let token: string | null = null;
  let tokenSource: Discovered["source"]["token"] = "none";
  if (flags.token) [token, tokenSource] = [flags.token, "flag"];
  else if (env.LANEBOARD_TOKEN) [token, tokenSource] = [env.LANEBOARD_TOKEN, "env"];
  else {
    const fromFile = readText(path.join(dataDir, TOKEN_FILE))?.trim();
    if (fromFile) [token, tokenSource] = [fromFile, "data-dir"];
  }
  return { url: url.replace(/\/+$/, ""), token, dataDir, source: { url: urlSource, token: tokenSource } };
}
