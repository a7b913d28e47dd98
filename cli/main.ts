/**
 * `laneboard`: the command line for people and claws. Every command takes `--json` (one JSON
 * document on stdout; errors as `{ error: { code, message, status } }`) and exits with a code
 * that says what happened (cli/output.ts: 0 ok, 2 usage, 3 not found, 4 refused, 5 timeout,
 * 6 unreachable, 7 ended otherwise, 1 anything else). The server and token are found from
 * `--url`/`LANEBOARD_URL`, `--token`/`LANEBOARD_TOKEN`, else the data dir (client/discover.ts).
 * Argument parsing: commander.
 */
import { Command, CommanderError } from "commander";
import { capsCommand, awaitCommand, mcpCommand, promptCommand, reposCommand, serveCommand, tokensCommand } from "./commands";
import { makeContext } from "./context";
import { dbCommand } from "./db";
import { lanesCommand } from "./lanes";
import { EXIT, makeOutput, type Output } from "./output";

export interface CliIo {
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Build the program; `ctx.exitCode` holds the result after `parseAsync`. */
export function buildProgram(io: CliIo) {
  const program = new Command("laneboard");
  let output: Output | undefined;
  const ctx = makeContext(program, () => (output ??= makeOutput(program.opts().json === true, io.stdout, io.stderr)), io.env);
  program
    .description("Laneboard: drive lanes of coding agents from the command line")
    .option("--url <url>", "server URL (default: LANEBOARD_URL, else <data-dir>/server.json, else http://127.0.0.1:3000)")
    .option("--token <token>", "API token (default: LANEBOARD_TOKEN, else <data-dir>/token)")
    .option("--data-dir <dir>", "the server's data dir (default: LANEBOARD_DATA_DIR, else ./.laneboard)")
    .option("--json", "machine-readable output")
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();
  for (const make of [lanesCommand, promptCommand, awaitCommand, reposCommand, capsCommand, tokensCommand, serveCommand, mcpCommand, dbCommand]) {
    program.addCommand(make(ctx));
  }
  // Subcommands report usage errors the same way (commander copies settings only to commands made with .command()).
  const configure = (cmd: Command) => {
    cmd.exitOverride().showHelpAfterError().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
    cmd.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return { program, ctx };
}

/** Run the CLI; resolves with the exit code. */
export async function runCli(io: CliIo): Promise<number> {
  const { program, ctx } = buildProgram(io);
  try {
    await program.parseAsync(io.argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not failures.
      if (err.code === "commander.helpDisplayed" || err.code === "commander.help" || err.code === "commander.version") return EXIT.ok;
      if (err.code === "commander.executeSubCommandAsync") return EXIT.error;
      return EXIT.usage;
    }
    throw err;
  }
  return ctx.exitCode;
}
