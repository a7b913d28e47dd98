/**
 * How a tmux pane starts an agent without its argv, environment or cwd ever passing through a
 * command line that tmux or a shell parses: they are written, NUL-separated, into a launch
 * directory, and the pane runs a fixed bash script with that directory as its only argument.
 *
 * `<dir>/argv`   argv entries, each followed by NUL
 * `<dir>/env`    `NAME=value` entries, each followed by NUL (the agent's whole environment)
 * `<dir>/cwd`    the working directory, followed by NUL
 * `<dir>/launch.sh` {@link LAUNCH_SCRIPT}
 * `<dir>/exit`   written by the launcher: the agent's exit status and a newline
 * Files are mode 0600 (the environment may hold an API key). `tmux respawn-pane` re-runs the
 * same launcher, so a relaunched agent gets exactly the same command.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { AppError } from "@/lib/errors";

/**
 * The launcher (bash ≥ 4.4 for `mapfile -d ''`). `env -i --` gives the agent exactly the stored
 * environment. The agent runs as bash's child, not by `exec`, so its exit status can be written
 * to `<dir>/exit` before the pane dies: tmux alone sometimes reports a pane dead before it knows
 * the status (seen with tmux 3.3a: `pane_dead=1`, `pane_dead_status` empty). Status 126 when the
 * launch files are unreadable or the cwd is gone; 128+n when the agent died of signal n.
 */
export const LAUNCH_SCRIPT = `# Laneboard interactive launcher: runs the command stored in the directory "$1".
dir=$1
rm -f -- "$dir/exit"
mapfile -d '' -t argv < "$dir/argv" || exit 126
mapfile -d '' -t envs < "$dir/env" || exit 126
IFS= read -r -d '' cwd < "$dir/cwd"
cd -- "$cwd" || exit 126
/usr/bin/env -i -- "\${envs[@]}" "\${argv[@]}"
status=$?
printf '%s\\n' "$status" > "$dir/exit.tmp" && mv -f -- "$dir/exit.tmp" "$dir/exit"
exit "$status"
`;

export interface LaunchSpec {
  argv: string[];
  /** Absolute working directory. */
  cwd: string;
  /** The complete environment of the agent. */
  env: Record<string, string>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Check a spec for what the launcher cannot carry.
 * @throws AppError `invalid_input` for an empty argv, a NUL byte, a bad variable name, a
 *   relative cwd, or an `=` in the program (env(1) would read it as a variable)
 */
export function validateLaunchSpec(spec: LaunchSpec): void {
  const bad = (msg: string) => new AppError("invalid_input", msg);
  if (spec.argv.length === 0 || spec.argv[0] === "") throw bad("the agent's argv is empty");
  if (spec.argv[0]!.includes("=")) throw bad(`the agent's program may not contain "=": ${spec.argv[0]}`);
  if (!path.isAbsolute(spec.cwd)) throw bad(`the agent's cwd must be absolute: ${spec.cwd}`);
  for (const s of [...spec.argv, spec.cwd, ...Object.values(spec.env)]) if (s.includes("\0")) throw bad("NUL byte in the agent's argv, cwd or environment");
  for (const k of Object.keys(spec.env)) if (!ENV_NAME.test(k)) throw bad(`bad environment variable name ${JSON.stringify(k)}`);
}

/**
 * Write the launch directory (created if needed, files replaced).
 * @returns the pane command: `["/bin/bash", "<dir>/launch.sh", "<dir>"]`
 * @throws AppError `invalid_input` (see {@link validateLaunchSpec}); fs errors as thrown
 */
export async function writeLaunchDir(dir: string, spec: LaunchSpec): Promise<string[]> {
  validateLaunchSpec(spec);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const nulJoin = (xs: string[]) => xs.map((x) => `${x}\0`).join("");
  const write = (name: string, data: string) => fs.writeFile(path.join(dir, name), data, { mode: 0o600 });
  await write("argv", nulJoin(spec.argv));
  await write("env", nulJoin(Object.entries(spec.env).map(([k, v]) => `${k}=${v}`)));
  await write("cwd", `${spec.cwd}\0`);
  await write("launch.sh", LAUNCH_SCRIPT);
  return launchCommand(dir);
}

/** The pane command for a launch directory. */
export function launchCommand(dir: string): string[] {
  return ["/bin/bash", path.join(dir, "launch.sh"), dir];
}

/** The exit status the launcher recorded, or null when there is none (yet). */
export async function readExitStatus(dir: string): Promise<number | null> {
  const text = await fs.readFile(path.join(dir, "exit"), "utf8").catch(() => "");
  return /^\d+\n$/.test(text) ? Number(text.trim()) : null;
}

/** Read a launch directory back (e.g. after a restart). @returns null when it is missing or incomplete */
export async function readLaunchDir(dir: string): Promise<LaunchSpec | null> {
  try {
    const split = async (name: string) => (await fs.readFile(path.join(dir, name), "utf8")).split("\0").slice(0, -1);
    const argv = await split("argv");
    const env = Object.fromEntries((await split("env")).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    const [cwd] = await split("cwd");
    return cwd ? { argv, env, cwd } : null;
  } catch {
    return null;
  }
}
