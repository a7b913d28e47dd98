/**
 * Connecting to PostgreSQL with clear failures: one place that turns driver errors (refused,
 * unknown host, bad password, missing database, timeout) into an AppError naming the server
 * without its password, so a node with a wrong `--database-url` stops at once with a message a
 * person can act on.
 */
import pg from "pg";
import { AppError } from "@/lib/errors";

/** How long a connection attempt may take before the start fails, in ms. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** True for a `postgresql://` or `postgres://` URL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The URL without its password (for messages and logs). Unparseable input becomes `<invalid URL>`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<invalid URL>";
  }
}

/** PostgreSQL error codes (SQLSTATE) and Node's errno codes worth a sentence of their own. */
const HINTS: Record<string, string> = {
  ECONNREFUSED: "nothing is listening there (is PostgreSQL running, on that port?)",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name does not resolve (DNS unavailable)",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "the host is unreachable",
  "28P01": "the password was refused",
  "28000": "the server refused this user (pg_hba.conf)",
  "3D000": "the database does not exist (create it first: createdb)",
};

/**
 * The AppError for a failure to reach or log into the server at `url`.
 * @param err what pg threw
 */
export function connectError(url: string, err: unknown): AppError {
  const code = (err as { code?: string } | null)?.code ?? "";
  const message = err instanceof Error ? err.message : String(err);
  const hint = HINTS[code] ?? (/timeout/i.test(message) ? "the connection timed out" : "");
  return new AppError("unavailable", `cannot reach PostgreSQL at ${redactUrl(url)}: ${hint ? `${hint} (${message})` : message}. Check --database-url / LANEBOARD_DATABASE_URL.`, { code: code || null });
}

/**
 * Open one client connection (not a pool), for boot checks, LISTEN and advisory locks.
 * @throws AppError("unavailable") from {@link connectError}
 */
export async function connectClient(url: string, opts: { timeoutMs?: number; applicationName?: string } = {}): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: opts.timeoutMs ?? CONNECT_TIMEOUT_MS, application_name: opts.applicationName ?? "laneboard" });
  // An idle client that loses its server emits "error"; its owner learns it from "end" instead.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw connectError(url, err);
  }
  return client;
}
