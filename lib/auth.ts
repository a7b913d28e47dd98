/**
 * Who may drive Laneboard, shared by server and clients: token scopes, the session cookie's
 * name, and the bodies of the token API (`/api/v1/tokens`).
 *
 * Scopes nest: `admin` ⊇ `control` ⊇ `read`. A token limited to repos (`repos`) reaches only
 * those repos' lanes, processes and events, and none of the server-wide settings.
 */
import { z } from "zod";

/**
 * - `read`: every GET and Socket.IO subscriptions.
 * - `control`: create lanes, prompt, kill, restart, merge, stdin, trust.
 * - `admin`: repos, caps, budgets, rate limits, policy, tokens.
 */
export const SCOPES = ["read", "control", "admin"] as const;
export const ScopeSchema = z.enum(SCOPES).describe("read ⊂ control ⊂ admin");
export type Scope = z.infer<typeof ScopeSchema>;

/** True when a token with `granted` scopes may do what `needed` covers (scopes nest). */
export function scopeCovers(granted: readonly Scope[], needed: Scope): boolean {
  const rank = SCOPES.indexOf(needed);
  return granted.some((s) => SCOPES.indexOf(s) >= rank);
}

/** The browser session cookie set by opening the board's token URL (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = "laneboard_session";

/** `POST /api/v1/tokens` body. */
export const CreateTokenBodySchema = z.object({
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[\w.@:-]+$/, "letters, digits and . _ - @ : only")
    .refine((n) => n !== "board" && n !== "admin", "`board` and `admin` are reserved")
    .describe("Who uses it; recorded as `by` in the events its calls cause"),
  scopes: z.array(ScopeSchema).min(1).max(3),
  repos: z.array(z.string().min(1).max(4096)).min(1).max(1000).optional().describe("Repo ids or paths; absent = every repo"),
  expiresAt: z.iso
    .datetime({ offset: true })
    .refine((t) => Date.parse(t) > Date.now(), "must be in the future")
    .optional()
    .describe("ISO 8601; absent = never"),
});
export type CreateTokenBody = z.infer<typeof CreateTokenBodySchema>;

/** A token as listed: never its secret. */
export const TokenViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(ScopeSchema),
  repos: z.array(z.string()).nullable().describe("Repo ids; null = every repo"),
  expiresAt: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string(),
});
export type TokenView = z.infer<typeof TokenViewSchema>;

/** `POST /api/v1/tokens` → 201: the secret, shown this once. */
export const CreatedTokenSchema = TokenViewSchema.extend({ token: z.string().describe("The secret; only its hash is stored") });
export type CreatedToken = z.infer<typeof CreatedTokenSchema>;

/** `GET /api/v1/tokens`: newest first, without secrets. */
export const TokenListSchema = z.object({ tokens: z.array(TokenViewSchema) });
export type TokenList = z.infer<typeof TokenListSchema>;
