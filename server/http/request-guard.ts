/**
 * The gate in front of Next.js: every HTTP request passes here before Next.js (pages or API
 * route handlers) sees it. In order:
 *
 * 1. security headers on every response (no framing, no sniffing, no Referer: the token may be
 *    in the first URL);
 * 2. `Host` must name this server (DNS rebinding) → 403;
 * 3. state-changing methods (anything but GET/HEAD/OPTIONS): a foreign `Origin` (or `null`) or
 *    `Sec-Fetch-Site: cross-site` → 403, whatever the credentials;
 * 4. `/api/…`: a token in the query string → 401 (URLs end up in logs and histories); no valid
 *    credentials → 401. The route handler then authenticates again and checks its scope;
 *    a state-changing call with a body: declared larger than 1 MiB → 413 (nothing is read; one
 *    sent chunked, without a declared length, is capped by the route's body reader), any
 *    media type but `application/json` (a policy: or YAML) → 415, so no cross-site "simple"
 *    request (text/plain, form-urlencoded, multipart) reaches a handler (lib/request-limits.ts);
 * 5. pages: `?token=<token>` sets the session cookie (HttpOnly, SameSite=Strict) and redirects
 *    (303) to the same URL without it; without a valid session → a 401 page saying where the
 *    token is. Next.js's static assets are public.
 *
 * Refusals are `{ error: { code, message } }` JSON (an HTML page for a browser asking for one).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { SESSION_COOKIE } from "@/lib/auth";
import { bodyKindOf, MAX_BODY_BYTES, YAML_BODY_PATH } from "@/lib/request-limits";
import type { AuthService, Caller } from "../auth/auth-service";
import type { OriginPolicy } from "./origin-policy";

export interface RequestGuardOptions {
  auth: AuthService;
  origins: OriginPolicy;
}

/** Handles (or refuses) a request; returns true when it answered, false to pass it on to Next.js. */
export type RequestGuard = (req: IncomingMessage, res: ServerResponse) => boolean;

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "X-Frame-Options": "DENY",
  "Content-Security-Policy": "frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Resource-Policy": "same-origin",
};

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Paths served without a session: Next.js's build assets and the icons. */
const PUBLIC_PREFIXES = ["/_next/static/", "/_next/webpack-hmr", "/__nextjs", "/favicon.ico", "/icon.svg"];

/** Build the guard for a server (see the module docs for what it checks). */
export function createRequestGuard(opts: RequestGuardOptions): RequestGuard {
  const { auth, origins } = opts;
  return (req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const refuseHost = origins.checkHost(req.headers);
    if (refuseHost) return refuse(req, res, 403, "forbidden", refuseHost);
    if (!SAFE_METHODS.has(req.method ?? "GET")) {
      const refuseOrigin = origins.checkOrigin(req.headers);
      if (refuseOrigin) return refuse(req, res, 403, "forbidden", refuseOrigin);
    }
    const url = new URL(req.url ?? "/", "http://laneboard.invalid");
    const creds = { authorization: req.headers.authorization, cookie: req.headers.cookie };
    if (url.pathname.startsWith("/api/")) {
      if (url.searchParams.has("token") || url.searchParams.has("access_token")) {
        return refuse(req, res, 401, "unauthorized", "tokens are not accepted in the URL of API calls: send `Authorization: Bearer <token>`");
      }
      const result = auth.authenticate(creds);
      if (!result.ok) return refuse(req, res, 401, "unauthorized", result.message);
      return SAFE_METHODS.has(req.method ?? "GET") ? false : checkBody(req, res, url.pathname);
    }
    if (PUBLIC_PREFIXES.some((p) => url.pathname.startsWith(p))) return false;
    const token = url.searchParams.get("token");
    if (token !== null) {
      const result = auth.authenticate({ authorization: `Bearer ${token}` });
      if (!result.ok) return refuse(req, res, 401, "unauthorized", "this board URL's token is not valid (wrong, revoked or expired)");
      url.searchParams.delete("token");
      // Never "//host": a path like "/.//evil.example" normalises to one, an open redirect.
      startSession(res, auth, result.caller, `/${(url.pathname + url.search).replace(/^[/\\]+/, "")}`);
      return true;
    }
    const result = auth.authenticate(creds);
    return result.ok ? false : refuse(req, res, 401, "unauthorized", "open the board URL printed when the server started (the token is in <data-dir>/token)");
  };
}

/** The body checks of a state-changing API call: false to pass it on, true when refused. */
function checkBody(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  const length = Number(req.headers["content-length"] ?? 0);
  const hasBody = length > 0 || req.headers["transfer-encoding"] !== undefined;
  if (length > MAX_BODY_BYTES) {
    // Do not read it: close the connection once answered instead of draining the rest.
    closeAfterAnswer(req, res);
    return refuse(req, res, 413, "payload_too_large", `the body is ${length} bytes; at most ${MAX_BODY_BYTES} are accepted`);
  }
  if (!hasBody) return false;
  // No declared length: the route reads it up to the cap (app/api/_lib/handler.ts) and leaves the
  // rest unread; the connection must then end with the answer rather than wait for the rest.
  if (req.headers["content-length"] === undefined) closeAfterAnswer(req, res);
  const kind = bodyKindOf(req.headers["content-type"]);
  if (kind === "json" || (kind === "yaml" && YAML_BODY_PATH.test(pathname))) return false;
  closeAfterAnswer(req, res);
  return refuse(req, res, 415, "unsupported_media_type", `send the body as application/json${YAML_BODY_PATH.test(pathname) ? " or application/yaml" : ""} (got ${JSON.stringify(req.headers["content-type"] ?? "")})`);
}

/** How long a connection whose answer left the request body unread stays half-open, in ms. */
export const LINGER_MS = 2_000;

/**
 * Answer with `Connection: close`, and when the answer leaves the request body partly unread (a
 * refusal, or a route that stopped reading at the cap), close only the sending half at first and
 * the whole connection {@link LINGER_MS} later. Node destroys the socket as soon as the answer is
 * written; with the client's bytes still arriving, that resets the connection, and a reset throws
 * away what the client has not read yet: clients saw the 413's status line and lost its body (a
 * CI run: EPIPE, the response never ended). The half-open time lets the answer be read first
 * (the lingering close of RFC 9112 §9.6, without reading on: the rest may be endless).
 */
function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader("Connection", "close");
  const socket = req.socket;
  // Node's http server ends a `Connection: close` exchange with socket.destroySoon(); a request
  // read whole keeps Node's own.
  const destroySoon = socket.destroySoon.bind(socket);
  socket.destroySoon = () => {
    if (req.complete) return destroySoon();
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  };
}

/** Set the session cookie and redirect to `location` (the same URL without the token). */
function startSession(res: ServerResponse, auth: AuthService, caller: Caller, location: string): void {
  res.statusCode = 303;
  res.setHeader("Set-Cookie", `${SESSION_COOKIE}=${auth.sessionValue(caller)}; Path=/; HttpOnly; SameSite=Strict`);
  res.setHeader("Location", location);
  res.setHeader("Cache-Control", "no-store");
  res.end();
}

/** Answer with `{ error: { code, message } }`, or a small HTML page when a browser navigates here. */
export function refuse(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string): true {
  res.statusCode = status;
  res.setHeader("Cache-Control", "no-store");
  const wantsHtml = !(req.url ?? "").startsWith("/api/") && (req.headers.accept ?? "").includes("text/html");
  if (wantsHtml) {
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.end(`<!doctype html><meta charset="utf-8"><title>Laneboard</title><body style="font-family:sans-serif;margin:3rem"><h1>Laneboard</h1><p>${escapeHtml(message)}</p></body>`);
  } else {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ error: { code, message } }));
  }
  return true;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
