/**
 * tmux as the pseudo-terminal of interactive agents: one private tmux server per data dir
 * (`tmux -S <dataDir>/tmux.sock`), one session per worker. A human can watch or take over with
 * `tmux -S <sock> attach -t <name>`, and sessions outlive a Laneboard restart like the
 * supervisor's processes do.
 *
 * Why no user input ever reaches tmux's command line: tmux parses its argv into commands, and an
 * argument ending in `;` separates commands even after `--` (checked with tmux 3.3a:
 * `new-session -- sh -c … x ';' display-message` ran two commands, and `z;` arrived as `z`).
 * So the pane runs a fixed launcher that reads the agent's argv, environment and cwd from files
 * (./pane-launch.ts), prompts travel through `load-buffer` on stdin, and every argument built
 * here is checked by {@link assertTmuxArg}. Requires tmux ≥ 3.0 (a multi-argument
 * `new-session` command is executed directly, not through `sh -c`).
 */
import path from "node:path";
import { execa } from "execa";
import { AppError } from "@/lib/errors";
import { signalName } from "../../processes/procfs";

/** Keys the sessions send by name (tmux key names); everything else is pasted as text. */
export type TmuxKey = "Enter" | "Up" | "Down" | "Escape" | "Tab" | "C-c" | "C-u";

/** A pane as one poll sees it. */
export interface PaneSnapshot {
  /** The pane's process has exited (the pane stays, `remain-on-exit on`). */
  dead: boolean;
  exitCode: number | null;
  /** Signal that ended it (`SIGKILL`; from tmux's `pane_dead_signal`, tmux ≥ 3.3), else null. */
  signal: string | null;
  pid: number | null;
  /** `capture-pane -p -J`: the visible screen, wrapped lines joined, trailing spaces removed per line. */
  screen: string;
}

/** Longest unix socket path (bytes) accepted; the kernel's limit is 107. */
const MAX_SOCKET_PATH_BYTES = 100;
/** A tmux command that does not answer within this (ms) counts as failed. */
const TMUX_TIMEOUT_MS = 10_000;
/** Session names are also file names and tmux targets: keep them plain. */
export const SESSION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The private tmux socket of a Laneboard data dir: `<dataDir>/tmux.sock`. */
export function tmuxSocketFor(dataDir: string): string {
  return path.join(path.resolve(dataDir), "tmux.sock");
}

/** Stderr of a command aimed at a pane, session or server that is gone. */
const GONE = /can't find (?:pane|session|window)|no server running|error connecting to|server exited|no such file or directory/i;

/**
 * @throws AppError `invalid_input` for an argument tmux would split or alter (one ending in `;`)
 *   or holding a NUL byte
 */
export function assertTmuxArg(arg: string): void {
  if (arg.endsWith(";") || arg.includes("\0")) throw new AppError("invalid_input", `argument not allowed on tmux's command line: ${JSON.stringify(arg.slice(0, 80))}`);
}

/** Single-quote `s` for a POSIX shell (for the attach line shown to humans). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const versionChecked = new Map<string, Promise<string>>();

/** One private tmux server, addressed by its socket. */
export class TmuxServer {
  readonly socketPath: string;
  readonly bin: string;

  /**
   * @param socketPath absolute path of the server's socket (created on first use)
   * @param bin tmux program (default `tmux` on PATH)
   * @throws AppError `invalid_input` for a socket path longer than 100 bytes or unusable by tmux
   */
  constructor(socketPath: string, bin = "tmux") {
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) throw new AppError("invalid_input", `tmux socket path is longer than ${MAX_SOCKET_PATH_BYTES} bytes: ${socketPath}`);
    assertTmuxArg(socketPath);
    this.socketPath = socketPath;
    this.bin = bin;
  }

  /**
   * The tmux version (e.g. "3.3a"), checked once per binary.
   * @throws AppError `command_not_found` when tmux is missing; `unavailable` when older than 3.0
   */
  version(): Promise<string> {
    let p = versionChecked.get(this.bin);
    if (!p) {
      p = checkVersion(this.bin);
      versionChecked.set(this.bin, p);
      p.catch(() => versionChecked.delete(this.bin));
    }
    return p;
  }

  /**
   * Run tmux commands in one client invocation (joined with tmux's `;` separator).
   * @param input written to tmux's stdin (for `load-buffer -`)
   * @returns stdout, and whether tmux exited 0 (with its stderr)
   * @throws AppError `invalid_input` for an unsafe argument; `command_not_found` when tmux is missing
   */
  async run(commands: string[][], input?: string): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    const args = ["-S", this.socketPath, "-f", "/dev/null"];
    commands.forEach((cmd, i) => {
      cmd.forEach(assertTmuxArg);
      if (i > 0) args.push(";");
      args.push(...cmd);
    });
    const res = await execa(this.bin, args, { reject: false, timeout: TMUX_TIMEOUT_MS, stripFinalNewline: false, ...(input !== undefined ? { input } : { stdin: "ignore" }) });
    if ((res as { code?: string }).code === "ENOENT") throw new AppError("command_not_found", `${this.bin} is not installed (apt-get install -y tmux)`);
    return { ok: res.exitCode === 0, stdout: String(res.stdout), stderr: String(res.stderr) };
  }

  /** Like {@link run}, but a failure throws. @throws AppError `unavailable` with tmux's message */
  async must(commands: string[][], input?: string): Promise<string> {
    const r = await this.run(commands, input);
    if (!r.ok) throw new AppError("unavailable", `tmux ${commands.map((c) => c[0]).join("; ")} failed: ${r.stderr.trim() || "no message"}`);
    return r.stdout;
  }

  /**
   * Create a detached session running `command` (a fixed launcher, see pane-launch.ts) in a
   * `width`×`height` window, with `remain-on-exit on` so the exit status stays readable.
   * @returns the pane id (`%N`, unique for the server's lifetime) and the pane's pid
   * @throws AppError `already_exists` when the session name is taken; `unavailable` on other tmux failures
   */
  async newSession(name: string, command: string[], size: { width: number; height: number }): Promise<{ paneId: string; pid: number }> {
    await this.version();
    if (!SESSION_NAME.test(name)) throw new AppError("invalid_input", `bad session name ${JSON.stringify(name)}`);
    if (await this.hasSession(name)) throw new AppError("already_exists", `tmux session ${name} already exists`);
    const out = await this.must([
      ["start-server"],
      // The server stays when its last session ends: with exit-empty on, a client that connects
      // while the server is exiting fails ("server exited unexpectedly", seen with tmux 3.3a).
      ["set-option", "-s", "exit-empty", "off"],
      // Global, and set before the session exists, so even an agent that dies at once stays readable.
      ["set-option", "-g", "remain-on-exit", "on"],
      ["new-session", "-d", "-s", name, "-x", String(size.width), "-y", String(size.height), "-P", "-F", "#{pane_id} #{pane_pid}", "--", ...command],
    ]);
    const m = /^(%\d+) (\d+)\s*$/m.exec(out);
    if (!m) throw new AppError("unavailable", `tmux new-session printed ${JSON.stringify(out)}`);
    return { paneId: m[1]!, pid: Number(m[2]) };
  }

  /** Whether a session with exactly this name exists. */
  async hasSession(name: string): Promise<boolean> {
    return (await this.run([["has-session", "-t", `=${name}`]])).ok;
  }

  /** The pane id of session `name` (its first pane), or null when there is no such session. */
  async findPane(name: string): Promise<string | null> {
    const r = await this.run([["list-panes", "-s", "-t", `=${name}`, "-F", "#{pane_id}"]]);
    return r.ok ? (r.stdout.split("\n")[0]?.trim() || null) : null;
  }

  /** Names of all sessions on this server ([] when the server is not running). */
  async listSessions(): Promise<string[]> {
    const r = await this.run([["list-sessions", "-F", "#{session_name}"]]);
    return r.ok ? r.stdout.split("\n").filter(Boolean) : [];
  }

  /**
   * Read a pane's state and screen in one tmux call.
   * @returns null when the pane (or the whole server) is gone
   * @throws AppError `unavailable` for any other tmux failure
   */
  async snapshot(paneId: string): Promise<PaneSnapshot | null> {
    const r = await this.run([
      ["display-message", "-p", "-t", paneId, "#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}|#{pane_pid}"],
      ["capture-pane", "-p", "-J", "-t", paneId],
    ]);
    if (!r.ok) {
      if (GONE.test(r.stderr)) return null;
      throw new AppError("unavailable", `tmux capture-pane failed: ${r.stderr.trim()}`);
    }
    const nl = r.stdout.indexOf("\n");
    const [dead, status, signal, pid] = r.stdout.slice(0, nl < 0 ? undefined : nl).split("|");
    const screen = nl < 0 ? "" : r.stdout.slice(nl + 1).split("\n").map((l) => l.trimEnd()).join("\n");
    const num = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : null);
    const sig = num(signal);
    return { dead: dead === "1", exitCode: dead === "1" ? num(status) : null, signal: sig === null ? null : (signalName(sig) ?? `signal ${sig}`), pid: num(pid), screen };
  }

  /**
   * Paste `text` into a pane as typed input: loaded into a named buffer from stdin (never on the
   * command line), then `paste-buffer -p` (bracketed when the program asked for it, so a
   * multi-line prompt stays one input in Claude Code) and `-d` (buffer deleted).
   */
  async paste(paneId: string, text: string, buffer: string): Promise<void> {
    await this.must([["load-buffer", "-b", buffer, "-"]], text);
    await this.must([["paste-buffer", "-p", "-d", "-b", buffer, "-t", paneId]]);
  }

  /** Send named keys, in order. */
  async sendKeys(paneId: string, keys: TmuxKey[]): Promise<void> {
    await this.must([["send-keys", "-t", paneId, ...keys]]);
  }

  /** Kill the pane's process (if alive) and start its original command again, on a clear screen. */
  async respawn(paneId: string): Promise<void> {
    await this.must([["respawn-pane", "-k", "-t", paneId], ["clear-history", "-t", paneId]]);
  }

  /** Kill a session (its processes get SIGHUP). Never throws; false when it did not exist. */
  async killSession(name: string): Promise<boolean> {
    return this.run([["kill-session", "-t", `=${name}`]]).then(
      (r) => r.ok,
      () => false,
    );
  }

  /** Stop the whole server and every session on it. Never throws. */
  async killServer(): Promise<void> {
    await this.run([["kill-server"]]).catch(() => undefined);
  }

  /** The argv a human runs to watch or take over session `name`. */
  attachArgv(name: string): string[] {
    return [this.bin, "-S", this.socketPath, "attach-session", "-t", `=${name}`];
  }
}

async function checkVersion(bin: string): Promise<string> {
  const res = await execa(bin, ["-V"], { reject: false, timeout: TMUX_TIMEOUT_MS, stdin: "ignore" });
  if ((res as { code?: string }).code === "ENOENT") throw new AppError("command_not_found", `${bin} is not installed (apt-get install -y tmux)`);
  const m = /tmux (?:next-)?(\d+)\.(\d+)(\S*)/.exec(String(res.stdout));
  if (!m) throw new AppError("unavailable", `cannot read the tmux version from ${JSON.stringify(String(res.stdout))}`);
  if (Number(m[1]) < 3) throw new AppError("unavailable", `tmux ${m[1]}.${m[2]} is too old: 3.0 or later is needed`);
  return `${m[1]}.${m[2]}${m[3]}`;
}
