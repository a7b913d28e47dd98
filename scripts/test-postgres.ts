/**
 * `npm run test:postgres [-- <command…>]`: run the test suite once more against PostgreSQL.
 *
 * Starts a throwaway PostgreSQL server in a temp dir (Debian's `postgresql` package; see
 * scripts/lib/throwaway-postgres.ts), creates the template database every test database is cloned
 * from (server/testing/test-database.ts) with all migrations applied, and a database for the
 * browser tests' server, then runs the command (default: the unit/integration suite, then the
 * browser end-to-end suite) with
 *   LANEBOARD_TEST_POSTGRES_URL   admin URL of the server (tests create their databases there)
 *   LANEBOARD_E2E_DATABASE_URL    the e2e server's database (playwright.config.ts passes it on)
 * and stops the server afterwards, also on Ctrl-C. Exit code: the command's.
 */
import { execa } from "execa";
import { applyPostgresMigrations } from "../server/store/migrate-postgres";
import { TEMPLATE_DATABASE } from "../server/testing/test-database";
import { startThrowawayPostgres } from "./lib/throwaway-postgres";

const DEFAULT_COMMANDS = [
  ["npx", "vitest", "run"],
  ["npx", "playwright", "test"],
];

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const commands = args.length ? [args] : DEFAULT_COMMANDS;
  const t0 = Date.now();
  const server = await startThrowawayPostgres({ port: process.env.LANEBOARD_TEST_POSTGRES_PORT ? Number(process.env.LANEBOARD_TEST_POSTGRES_PORT) : undefined });
  const stop = () => void server.stop().finally(() => process.exit(130));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const template = await server.createDatabase(TEMPLATE_DATABASE);
    await applyPostgresMigrations(template);
    const e2e = await server.createDatabase("laneboard_e2e", TEMPLATE_DATABASE);
    console.log(`PostgreSQL ${server.url()} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (data in ${server.dir})`);
    const env = { ...process.env, LANEBOARD_TEST_POSTGRES_URL: server.url(), LANEBOARD_E2E_DATABASE_URL: e2e };
    for (const [cmd, ...rest] of commands) {
      const run = await execa(cmd!, rest, { stdio: "inherit", env, reject: false });
      if (run.exitCode !== 0) return run.exitCode ?? 1;
    }
    return 0;
  } finally {
    await server.stop();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
