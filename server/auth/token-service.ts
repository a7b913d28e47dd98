/**
 * Scoped tokens for claws and people (`/api/v1/tokens`): made, listed and revoked here, kept in
 * the ApiToken table by the SHA-256 of their secret (server/auth/secrets.ts), and mirrored into
 * the {@link AuthService} that checks every request.
 *
 * - A token has scopes (`read` ⊂ `control` ⊂ `admin`, lib/auth.ts), optionally a set of repos it
 *   is limited to, and optionally an expiry.
 * - Creating and revoking are lane events (`token.created`, `token.revoked`, no lane) with the
 *   caller as `by`; the secret appears in neither.
 * - Revoking takes effect at once: the AuthService forgets the token and tells its `onRevoked`
 *   listeners (the Socket.IO layer closes the connections it opened).
 */
import { randomUUID } from "node:crypto";
import { AppError } from "@/lib/errors";
import type { CreateTokenBody, CreatedToken, Scope, TokenView } from "@/lib/auth";
import type { EventBus } from "../events/event-bus";
import { isRemoteEvent, type EventLog } from "../events/event-log";
import type { RepoService } from "../repos/repo-service";
import type { Db } from "../store/db";
import type { AuthService, Caller } from "./auth-service";
import { hashSecret, newTokenSecret } from "./secrets";

type TokenRow = { id: string; name: string; hash: string; scopes: string; repos: string | null; expiresAt: Date | null; createdAt: Date; createdBy: string };

export interface TokenServiceDeps {
  db: Db;
  auth: AuthService;
  events: EventLog;
  repos: Pick<RepoService, "resolve">;
}

function view(row: TokenRow): TokenView {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as Scope[],
    repos: row.repos === null ? null : (JSON.parse(row.repos) as string[]),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
  };
}

export class TokenService {
  constructor(private readonly deps: TokenServiceDeps) {}

  /** Make every stored, unexpired token valid (at boot). @returns how many */
  async load(now = new Date()): Promise<number> {
    const rows = await this.deps.db.apiToken.findMany({ where: { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] } });
    for (const row of rows) this.#activate(row);
    return rows.length;
  }

  /**
   * Make a token. The caller must be an unrestricted admin (a repo-limited token cannot reach
   * server-wide settings, and tokens are one).
   * @returns the token with its secret, which is not kept and cannot be shown again
   * @throws AppError forbidden (caller limited to repos), not_found (a repo), already_exists (name in use)
   */
  async create(body: CreateTokenBody, caller: Caller): Promise<CreatedToken> {
    if (caller.repos !== null) throw new AppError("forbidden", "a token limited to repos cannot manage tokens");
    const repos = body.repos ? [...new Set(await Promise.all(body.repos.map(async (r) => (await this.deps.repos.resolve(r)).id)))] : null;
    if (await this.deps.db.apiToken.findFirst({ where: { name: body.name } })) throw new AppError("already_exists", `a token named ${body.name} exists`, { field: "name" });
    const secret = newTokenSecret();
    const row = await this.deps.db.apiToken.create({
      data: {
        id: randomUUID(),
        name: body.name,
        hash: hashSecret(secret),
        scopes: JSON.stringify([...new Set(body.scopes)]),
        repos: repos === null ? null : JSON.stringify(repos),
        expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
        createdBy: caller.by,
      },
    });
    this.#activate(row);
    const created = view(row);
    await this.deps.events.append({ type: "token.created", laneId: null, payload: { tokenId: row.id, name: row.name, scopes: created.scopes, repos, expiresAt: created.expiresAt } });
    return { ...created, token: secret };
  }

  /** Every token, newest first, without secrets (expired ones included, marked by `expiresAt`). */
  async list(): Promise<TokenView[]> {
    return (await this.deps.db.apiToken.findMany({ orderBy: { createdAt: "desc" } })).map(view);
  }

  /**
   * Revoke a token: refused from then on, its open sockets closed.
   * @throws AppError forbidden (caller limited to repos), not_found
   */
  async revoke(id: string, caller: Caller): Promise<TokenView> {
    if (caller.repos !== null) throw new AppError("forbidden", "a token limited to repos cannot manage tokens");
    const row = await this.deps.db.apiToken.findUnique({ where: { id } });
    if (!row) throw new AppError("not_found", `no token ${id}`);
    await this.deps.db.apiToken.delete({ where: { id } });
    this.deps.auth.removeToken(id);
    await this.deps.events.append({ type: "token.revoked", laneId: null, payload: { tokenId: id, name: row.name } });
    return view(row);
  }

  /**
   * Several nodes on one database (docs/scale-out.md): apply the tokens other nodes make and
   * revoke, from their `token.created` / `token.revoked` events on this node's bus, so a token
   * works, and stops working, on every node at once.
   * @returns a function that stops following
   */
  followOtherNodes(bus: Pick<EventBus, "on">): () => void {
    return bus.on("lane.event", (e) => {
      if (!isRemoteEvent(e)) return;
      if (e.type === "token.revoked") this.deps.auth.removeToken(e.payload.tokenId);
      if (e.type !== "token.created") return;
      void this.deps.db.apiToken
        .findUnique({ where: { id: e.payload.tokenId } })
        .then((row) => row && this.#activate(row))
        .catch((err: unknown) => console.warn(`[auth] loading token ${e.payload.tokenId} made on another node failed: ${(err as Error).message}`));
    });
  }

  #activate(row: TokenRow): void {
    this.deps.auth.addToken({
      id: row.id,
      name: row.name,
      hash: row.hash,
      scopes: JSON.parse(row.scopes) as Scope[],
      repos: row.repos === null ? null : (JSON.parse(row.repos) as string[]),
      expiresAt: row.expiresAt,
    });
  }
}
