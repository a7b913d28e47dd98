/**
 * Authentication: who is calling, from the `Authorization: Bearer <token>` header, the board's
 * session cookie, or (Socket.IO) the handshake's `auth.token`. Used by the HTTP guard
 * (server/http), every API route (app/api/_lib/handler.ts) and the Socket.IO handshake.
 *
 * Secrets are compared in constant time: the admin token with {@link constantTimeEqual}; scoped
 * tokens are found by the SHA-256 of the presented secret (an attacker learns nothing from the
 * timing of a lookup keyed by a hash they cannot steer) and the hashes compared in constant time.
 *
 * The session cookie is stateless: `<subject>.<HMAC-SHA256(admin token, subject)>`, subject
 * `admin` or a scoped token's id. It survives restarts (the admin token is reused) and dies with
 * the admin token or the scoped token it was made from.
 */
import { AppError } from "@/lib/errors";
import { SESSION_COOKIE, scopeCovers, type Scope } from "@/lib/auth";
import { constantTimeEqual, hashSecret, mac } from "./secrets";

/** An authenticated caller. */
export interface Caller {
  /**
   * Recorded as `by` in the events its calls cause: `board` for the admin session cookie,
   * `admin` for the admin token as a bearer, else the token's name.
   */
  by: string;
  /** The scoped token's id; null for the admin token and the admin session. */
  tokenId: string | null;
  scopes: readonly Scope[];
  /** Repo ids the caller may reach; null = every repo. */
  repos: ReadonlySet<string> | null;
  via: "bearer" | "cookie" | "socket";
  /** Epoch ms after which the caller's token is no longer valid; null = never. */
  expiresAt: number | null;
}

/** A scoped token as the authenticator keeps it (in memory; the store is server/auth/token-service.ts). */
export interface ActiveToken {
  id: string;
  name: string;
  /** SHA-256 hex of the secret. */
  hash: string;
  scopes: readonly Scope[];
  repos: readonly string[] | null;
  expiresAt: Date | null;
}

/** The credentials of a request: header values as received (undefined when absent). */
export interface Credentials {
  authorization?: string | null;
  cookie?: string | null;
  /** Socket.IO `auth.token` (claws without cookies). */
  socketToken?: unknown;
}

export type AuthResult = { ok: true; caller: Caller } | { ok: false; message: string };

const ADMIN_SCOPES: readonly Scope[] = ["admin"];

/** The value of cookie `name` in a `Cookie` header, or null. */
export function readCookie(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export class AuthService {
  readonly #adminToken: string;
  /** Scoped tokens by hash. */
  readonly #tokens = new Map<string, ActiveToken>();
  readonly #byId = new Map<string, ActiveToken>();
  readonly #revoked = new Set<(tokenId: string) => void>();

  constructor(adminToken: string) {
    this.#adminToken = adminToken;
  }

  /** The admin token (printed in the board URL at start). */
  get adminToken(): string {
    return this.#adminToken;
  }

  /** Make `token` valid (at boot, and when one is created). */
  addToken(token: ActiveToken): void {
    this.#tokens.set(token.hash, token);
    this.#byId.set(token.id, token);
  }

  /** Make a token invalid at once (revocation), and tell the {@link onRevoked} listeners. */
  removeToken(id: string): void {
    const token = this.#byId.get(id);
    if (!token) return;
    this.#byId.delete(id);
    this.#tokens.delete(token.hash);
    for (const listener of this.#revoked) listener(id);
  }

  /** Call `listener` with a token's id when it is revoked (to close what it opened). @returns unsubscribe */
  onRevoked(listener: (tokenId: string) => void): () => void {
    this.#revoked.add(listener);
    return () => void this.#revoked.delete(listener);
  }

  /** True when `caller` may see or act on repo `repoId` (a token limited to repos; null repo = server-wide). */
  mayReachRepo(caller: Caller, repoId: string | null): boolean {
    return caller.repos === null || (repoId !== null && caller.repos.has(repoId));
  }

  /**
   * Who presents these credentials. Order: the Authorization header (when present it decides:
   * a bad one never falls back to the cookie), the Socket.IO token, then the session cookie.
   */
  authenticate(creds: Credentials, now = Date.now()): AuthResult {
    if (creds.authorization != null && creds.authorization !== "") {
      const m = /^Bearer +(\S+) *$/i.exec(creds.authorization);
      if (!m) return { ok: false, message: "the Authorization header must be `Bearer <token>`" };
      return this.#bySecret(m[1]!, "bearer", now);
    }
    if (creds.socketToken !== undefined) {
      if (typeof creds.socketToken !== "string" || !creds.socketToken) return { ok: false, message: "auth.token must be a non-empty string" };
      return this.#bySecret(creds.socketToken, "socket", now);
    }
    const session = readCookie(creds.cookie, SESSION_COOKIE);
    if (session) return this.#bySession(session, now);
    return { ok: false, message: "authentication required: send `Authorization: Bearer <token>` (the admin token is in <data-dir>/token) or open the board URL printed at start" };
  }

  /**
   * Like {@link authenticate}, for route handlers.
   * @throws AppError unauthorized (401) with the reason
   */
  require(creds: Credentials): Caller {
    const result = this.authenticate(creds);
    if (!result.ok) throw new AppError("unauthorized", result.message);
    return result.caller;
  }

  /**
   * @throws AppError forbidden (403) when `caller` lacks `scope`
   */
  authorize(caller: Caller, scope: Scope): void {
    if (!scopeCovers(caller.scopes, scope)) throw new AppError("forbidden", `this needs the \`${scope}\` scope; the token has ${caller.scopes.join(", ")}`);
  }

  /** The session cookie value for a caller authenticated by a token (the token URL). */
  sessionValue(caller: Caller): string {
    const subject = caller.tokenId ?? "admin";
    return `${subject}.${mac(this.#adminToken, `session:${subject}`)}`;
  }

  /** The Caller for a secret, if it is the admin token or an active scoped token. */
  #bySecret(secret: string, via: Caller["via"], now: number): AuthResult {
    if (constantTimeEqual(secret, this.#adminToken)) return { ok: true, caller: adminCaller("admin", via) };
    const hash = hashSecret(secret);
    const token = this.#tokens.get(hash);
    if (!token || !constantTimeEqual(hash, token.hash)) return { ok: false, message: "the token is not valid (wrong, revoked or expired)" };
    return this.#tokenCaller(token, token.name, via, now);
  }

  #bySession(value: string, now: number): AuthResult {
    const dot = value.lastIndexOf(".");
    const subject = dot > 0 ? value.slice(0, dot) : "";
    const invalid: AuthResult = { ok: false, message: "the session has ended: open the board URL printed at start again" };
    if (!subject || !constantTimeEqual(value.slice(dot + 1), mac(this.#adminToken, `session:${subject}`))) return invalid;
    if (subject === "admin") return { ok: true, caller: adminCaller("board", "cookie") };
    const token = this.#byId.get(subject);
    return token ? this.#tokenCaller(token, token.name, "cookie", now) : invalid;
  }

  #tokenCaller(token: ActiveToken, by: string, via: Caller["via"], now: number): AuthResult {
    const expiresAt = token.expiresAt?.getTime() ?? null;
    if (expiresAt !== null && expiresAt <= now) return { ok: false, message: "the token is not valid (wrong, revoked or expired)" };
    return { ok: true, caller: { by, tokenId: token.id, scopes: token.scopes, repos: token.repos ? new Set(token.repos) : null, via, expiresAt } };
  }
}

function adminCaller(by: string, via: Caller["via"]): Caller {
  return { by, tokenId: null, scopes: ADMIN_SCOPES, repos: null, via, expiresAt: null };
}
