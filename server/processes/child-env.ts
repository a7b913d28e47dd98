/**
 * Which of the server's secrets a child process inherits: the one home of that policy. Every
 * supervised process (lane workers, checks) and every interactive agent session starts from
 * {@link childEnv}: the server's environment **without** the model API keys and Laneboard's own
 * secrets ({@link isWithheldEnv}), plus the variables the caller names explicitly.
 *
 * Why: a `shell` or `script` lane, or a check, runs the repository's and the packet author's
 * code; it has no use for the user's Anthropic or OpenAI key or Laneboard's tokens, and a
 * `printenv` in a lane's output would show them to everyone who can read the lane. An agent
 * engine is granted only the key(s) of the API it talks to (server/engines/engine-command.ts
 * `secretEnv`: claude and anthropic → the Anthropic ones, codex → the OpenAI ones); a key
 * configured for Laneboard (`LANEBOARD_*_API_KEY`) reaches an engine as an explicit override.
 * Other variables (PATH, proxies, the user's own tool tokens such as `GH_TOKEN`) are inherited as
 * before: they are the user's environment for their own commands, not Laneboard's secrets.
 */

/** The Anthropic API's credentials, as Claude Code and the built-in agent read them. */
export const ANTHROPIC_SECRET_ENV = ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"] as const;
/** The OpenAI API's credentials, as Codex reads them. */
export const OPENAI_SECRET_ENV = ["OPENAI_API_KEY", "CODEX_API_KEY"] as const;

const MODEL_SECRET_ENV: ReadonlySet<string> = new Set([...ANTHROPIC_SECRET_ENV, ...OPENAI_SECRET_ENV]);

/** Laneboard's own secret settings: `LANEBOARD_ANTHROPIC_API_KEY`, `LANEBOARD_TOKEN`, `LANEBOARD_DATABASE_URL` (may hold a password), … */
const LANEBOARD_SECRET_ENV = /^LANEBOARD_(?:.*_)?(?:API_KEY|KEY|TOKEN|SECRET|PASSWORD|DATABASE_URL)$/;

/** Whether the server's variable `name` is withheld from children unless granted. */
export function isWithheldEnv(name: string): boolean {
  return MODEL_SECRET_ENV.has(name) || LANEBOARD_SECRET_ENV.test(name);
}

/**
 * The environment of a child: the server's environment minus withheld secrets, the withheld
 * variables in `grant` that the server has, then `overrides` (which win, and may set anything:
 * the packet author chose them).
 *
 * @param overrides variables set for this child (the engine's, then the packet's `worker.env`)
 * @param grant names of withheld variables this child may inherit (an engine's `secretEnv`)
 * @param serverEnv the environment to start from (default `process.env`)
 */
export function childEnv(overrides: Record<string, string> = {}, grant: readonly string[] = [], serverEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(serverEnv)) {
    if (value !== undefined && (!isWithheldEnv(name) || grant.includes(name))) env[name] = value;
  }
  return Object.assign(env, overrides);
}

/** Values of the withheld variables the server has (for redaction: they are known secrets). */
export function withheldEnvValues(serverEnv: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(serverEnv)
    .filter(([name, value]) => value && isWithheldEnv(name))
    .map(([, value]) => value!);
}
