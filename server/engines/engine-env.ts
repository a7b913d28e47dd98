/**
 * What the agent engines share: where their binaries are, how a prompt reaches stdin, and the
 * isolated home directory each lane's agent runs with.
 *
 * Why the prompt goes through a file: the supervisor gives a worker a FIFO as stdin that it
 * opens read-write, so the worker never sees end-of-file. Both CLIs read stdin to EOF when it
 * is not a terminal (Claude Code waits 3 s and warns "no stdin data received"; `codex exec`
 * appends stdin to an argument prompt), and an argument is limited to 128 KiB on Linux while a
 * packet's prompt may be 200,000 characters. So the prompt is written to the lane directory and
 * the worker is started as `/bin/sh -c 'exec "$@" < "$0"' <promptFile> <argv...>`: a fixed
 * script, the file and the argv only as positional parameters, and `exec` so no extra process.
 */
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { AppError } from "@/lib/errors";

/** The fixed script that replaces stdin with the file in `$0` and runs `"$@"`. */
export const STDIN_FROM_FILE_SCRIPT = 'exec "$@" < "$0"';

/** Wrap `argv` so it runs with `file` as its stdin. */
export function stdinFromFile(file: string, argv: string[]): string[] {
  return ["/bin/sh", "-c", STDIN_FROM_FILE_SCRIPT, file, ...argv];
}

const require = createRequire(import.meta.url);

/**
 * Absolute path of an npm package's executable, from its package.json `bin` field.
 * @throws AppError `command_not_found` when the package is not installed
 */
export function packageBin(pkg: string, bin: string): string {
  let manifest: string;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new AppError("command_not_found", `${pkg} is not installed (npm install ${pkg})`);
  }
  const json = require(manifest) as { bin?: string | Record<string, string> };
  const rel = typeof json.bin === "string" ? json.bin : json.bin?.[bin];
  if (!rel) throw new AppError("command_not_found", `${pkg} has no executable named ${bin}`);
  return path.join(path.dirname(manifest), rel);
}

/**
 * Claude Code's native executable from the `@anthropic-ai/claude-code` dev dependency. When its
 * postinstall was skipped the file is a stub: run `node install.cjs` in the package folder.
 */
export function defaultClaudeBin(): string {
  return packageBin("@anthropic-ai/claude-code", "claude");
}

/** Codex's launcher (`bin/codex.js`, run with node) from the `@openai/codex` dev dependency. */
export function defaultCodexArgv(): string[] {
  return [process.execPath, packageBin("@openai/codex", "codex")];
}

export interface AgentHome {
  /** `HOME` for the agent: `<laneDir>/agent-home`. */
  home: string;
  /** `CODEX_HOME`: `<home>/.codex`. */
  codexHome: string;
}

/**
 * Prepare the isolated home directory of a lane's agent (idempotent). It holds
 * `.claude.json` = `{"hasCompletedOnboarding":true}` (without it Claude Code first tries to
 * reach Anthropic's servers) and `.codex/` for Codex's state. Isolation keeps lanes from
 * sharing sessions, settings or credentials with each other or with the user's own home.
 */
export async function prepareAgentHome(laneDir: string): Promise<AgentHome> {
  const home = path.join(path.resolve(laneDir), "agent-home");
  const codexHome = path.join(home, ".codex");
  await fs.mkdir(codexHome, { recursive: true });
  const claudeJson = path.join(home, ".claude.json");
  await fs.writeFile(claudeJson, `${JSON.stringify({ hasCompletedOnboarding: true })}\n`, { flag: "wx" }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EEXIST") throw err;
  });
  return { home, codexHome };
}

/** Identity of an agent's commits, so `git commit` works with an empty HOME. */
export function agentGitEnv(engine: string): Record<string, string> {
  const name = `Laneboard ${engine} agent`;
  const email = `${engine}-agent@laneboard.invalid`;
  return { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email };
}
