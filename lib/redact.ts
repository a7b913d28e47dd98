/**
 * Redaction of secrets in what Laneboard shows: process views (argv, env), lane events (so also
 * socket messages and webhooks, which carry events), and the server's settings. Everything
 * redacted becomes {@link REDACTED}.
 *
 * Two kinds of secret are recognised:
 * - **values the server knows** ({@link registerSecrets}): the model API keys it was configured
 *   with or has in its environment, and its admin token. Issued tokens are never kept in clear,
 *   so they are caught by their shape instead;
 * - **well-known shapes** in any text: Anthropic keys (`sk-ant-…`), OpenAI-style keys (`sk-…`,
 *   `sk-proj-…`), Laneboard tokens (`lb_` + 43 base64url characters, server/auth/secrets.ts), and
 *   the credential after `Bearer ` / `Basic `.
 * In an environment, the value of every variable whose name looks secret (`…KEY`, `…TOKEN`,
 * `…SECRET`, `…PASSWORD`, `…CREDENTIAL`) is redacted whole, whatever it looks like.
 *
 * Known values live on `globalThis` under a registered symbol: the runtime and the route
 * handlers (bundled by Next.js) each load their own copy of this module, and must share them.
 */

/** What a redacted secret is shown as. */
export const REDACTED = "[redacted]";

/** Names of environment variables whose values are secret whatever they look like. */
export const SECRET_ENV_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

/** Known values shorter than this are not redacted: too likely to occur by chance (and too weak to be keys). */
const MIN_SECRET_LENGTH = 12;

const SECRET_SHAPES: ReadonlyArray<[RegExp, string]> = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/\bsk-ant-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\blb_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g, REDACTED],
];

const KNOWN = Symbol.for("laneboard.knownSecrets");
type WithKnown = typeof globalThis & { [KNOWN]?: Set<string> };

function known(): Set<string> {
  const g = globalThis as WithKnown;
  return (g[KNOWN] ??= new Set<string>());
}

/** Remember secret values to redact wherever they appear (empty and short values are ignored). */
export function registerSecrets(values: Iterable<string | null | undefined>): void {
  for (const value of values) if (value && value.length >= MIN_SECRET_LENGTH) known().add(value);
}

/** Forget the known secrets (tests that start several runtimes in one process). */
export function clearKnownSecrets(): void {
  known().clear();
}

/** `text` with every known secret value and every well-known secret shape replaced by {@link REDACTED}. */
export function redactText(text: string): string {
  let out = text;
  for (const value of known()) if (out.includes(value)) out = out.split(value).join(REDACTED);
  for (const [shape, replacement] of SECRET_SHAPES) out = out.replace(shape, replacement);
  return out;
}

/** An environment as shown: secret-named variables redacted whole, the others through {@link redactText}. */
export function redactEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, SECRET_ENV_NAME.test(name) ? REDACTED : redactText(value)]));
}

/**
 * A copy of a JSON-like value with every string through {@link redactText}, and every object
 * under a key named `env` through {@link redactEnv}. Values other than plain objects, arrays and
 * strings are returned as they are.
 */
export function redactDeep<T>(value: T): T {
  return walk(value, false) as T;
}

function walk(value: unknown, isEnv: boolean): unknown {
  if (typeof value === "string") return redactText(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, false));
  if (value === null || typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = isEnv && typeof v === "string" && SECRET_ENV_NAME.test(key) ? REDACTED : walk(v, key === "env");
  }
  return out;
}
