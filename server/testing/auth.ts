/**
 * Authenticated requests for tests. Every `/api/v1` call needs a token; tests use the admin
 * token of the runtime under test (created in its temp data dir at start).
 *
 * - Route handlers called directly: `await lanes.POST(apiRequest("POST", "/api/v1/lanes", packet), ctx)`.
 * - A real HTTP or Socket.IO client: `fetch(url, { headers: authHeaders(rt) })`,
 *   `io(url, { auth: { token: rt.auth.adminToken } })`.
 * - A server process started by the test: `readAdminToken(dataDir)` (server/auth/admin-token.ts).
 *
 * Not imported by runtime code.
 */
import { randomUUID } from "node:crypto";
import type { Scope } from "@/lib/auth";
import { getRuntime } from "../runtime-global";
import type { Runtime } from "../runtime";
import { hashSecret, newTokenSecret } from "../auth/secrets";

/** `{ authorization: "Bearer <admin token>" }` of `rt` (default: the runtime route handlers use). */
export function authHeaders(rt: Runtime = getRuntime()): { authorization: string } {
  return { authorization: `Bearer ${rt.auth.adminToken}` };
}

/**
 * A Request as an authenticated claw sends it: the admin token as a bearer and, with a body,
 * `content-type: application/json` (a string body is sent as is, anything else as JSON).
 * `headers` add to or override these (e.g. another token, or `content-type: text/yaml`).
 */
export function apiRequest(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Request {
  const base: Record<string, string> = { ...authHeaders(), ...(body === undefined ? {} : { "content-type": "application/json" }) };
  return new Request(`http://127.0.0.1${path}`, {
    method,
    headers: { ...base, ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

/**
 * A scoped token valid in `rt` until it stops (in memory only, unlike `POST /api/v1/tokens`), for
 * tests that need a second caller. @returns the secret
 */
export function issueTestToken(rt: Runtime, name: string, scopes: Scope[] = ["admin"], repos: string[] | null = null): string {
  const secret = newTokenSecret();
  rt.auth.addToken({ id: `test-${randomUUID()}`, name, hash: hashSecret(secret), scopes, repos, expiresAt: null });
  return secret;
}
