/**
 * The Laneboard server as its own process, started the way `npm start` starts it
 * (`node <SERVER_NODE_FLAGS> --import tsx server/main.ts`, production mode, the start script's
 * environment), for tests that must talk to the real thing over the network: the e2e specs
 * (e2e/support.ts re-exports these) and the security suite (test/security).
 *
 * Production mode serves the Next.js build in `.next` (`next build`); the server refuses to start
 * without one. Not imported by runtime code.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readAdminToken } from "../auth/admin-token";
import { SERVER_ENV, SERVER_NODE_FLAGS } from "../node-flags";
import { testDatabaseUrl } from "./test-database";

/** The repository's root: where `server/main.ts` and `.next` are. */
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A server process of a test's own (its port and data dir), with what it printed so far. */
export interface OwnServer {
  child: ChildProcess;
  /** Everything it printed (stdout and stderr) so far. */
  output(): string;
  /**
   * Resolves with the output once it matches `re` (stdout and stderr are separate pipes: a line
   * printed on stderr right after the board URL may arrive after it).
   * @throws Error with the output when the server exits first
   */
  printed(re: RegExp): Promise<string>;
  /** Its admin token (`<dataDir>/token`; servers on one data dir share it). */
  token: string;
  /** The origin it printed in its board URL, e.g. `http://127.0.0.1:41234` (the real port when started on port 0). */
  url: string;
  port: number;
}

export interface StartServerOptions {
  /** Added to (or overriding) the environment the server inherits. */
  env?: Record<string, string>;
}

/**
 * Start `server/main.ts` as its own process (production mode, no demo); resolves once it has
 * printed its board URL, i.e. listens.
 * @param port 0 for any free port (the answer's `port` says which)
 * @param extraArgs more command-line options (server/config.ts), e.g. `["--host", "0.0.0.0"]`
 * @throws Error with the server's output when it exits before listening
 */
export async function startServer(port: number, dataDir: string, extraArgs: string[] = [], opts: StartServerOptions = {}): Promise<OwnServer> {
  // The suite's PostgreSQL run: the data dir's own database (the same one on every restart).
  const databaseUrl = await testDatabaseUrl(dataDir);
  const dbArgs = databaseUrl ? ["--database-url", databaseUrl] : [];
  const args = [...SERVER_NODE_FLAGS, "--import", "tsx", "server/main.ts", "--port", String(port), "--data-dir", dataDir, "--no-demo", ...dbArgs, ...extraArgs];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...SERVER_ENV, NODE_ENV: "production", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /Laneboard on (http:\/\/\S+?)\/\?token=/.exec(output);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  const printed = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (!re.test(output)) return false;
        child.stdout!.off("data", check);
        child.stderr!.off("data", check);
        resolve(output);
        return true;
      };
      if (check()) return;
      child.stdout!.on("data", check);
      child.stderr!.on("data", check);
      child.once("exit", () => check() || reject(new Error(`server exited without printing ${re}:\n${output}`)));
    });
  return { child, output: () => output, printed, token: await readAdminToken(dataDir), url, port: Number(new URL(url).port) };
}

/** SIGKILL a server process; resolves once it has exited. */
export function sigkill(child: ChildProcess): Promise<void> {
  return signal(child, "SIGKILL");
}

/** Send `sig` (default SIGTERM: an orderly shutdown) and resolve once the process has exited. */
export function signal(child: ChildProcess, sig: NodeJS.Signals = "SIGTERM"): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill(sig);
  });
}
