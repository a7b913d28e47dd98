/**
 * Which database a test opens. The unit suite runs twice in `npm test`: on SQLite (the default)
 * and once more against a throwaway PostgreSQL (`npm run test:unit:postgres`, scripts/test-postgres.ts),
 * which sets `LANEBOARD_TEST_POSTGRES_URL` to its admin URL after creating
 * {@link TEMPLATE_DATABASE} with every migration applied.
 *
 * In that run each data dir gets its own database, cloned from the template (`CREATE DATABASE …
 * TEMPLATE`, about 30 ms) and named after a hash of the data dir, so reopening the same data dir
 * (a restart test) reopens the same database, and tests stay as isolated as with SQLite files.
 * Not imported by runtime code.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import pg from "pg";

/** Database in the test server holding every migration, cloned for each test database. */
export const TEMPLATE_DATABASE = "laneboard_template";

/** Admin URL of the PostgreSQL test server, or undefined in the SQLite run. */
export function testPostgresUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.LANEBOARD_TEST_POSTGRES_URL || undefined;
}

/** True in the PostgreSQL run of the suite. */
export const onPostgres = (): boolean => testPostgresUrl() !== undefined;

/** A URL like `base` but naming `database`. */
export function withDatabase(base: string, database: string): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Create `name` from the template unless it exists. Concurrent creations from one template can
 * fail with "source database is being accessed by other users" for a moment: retried.
 */
export async function createTestDatabase(adminUrl: string, name: string, template: string | null = TEMPLATE_DATABASE): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ""}`);
        break;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "42P04") break; // already exists: the same data dir opened again
        if (code !== "55006" || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 20 + attempt * 10));
      }
    }
  } finally {
    await client.end();
  }
  return withDatabase(adminUrl, name);
}

/**
 * The `databaseUrl` to open `dataDir` with: undefined (SQLite) in the SQLite run, else the URL of
 * the data dir's own PostgreSQL database (created from the template on first use).
 */
export async function testDatabaseUrl(dataDir: string): Promise<string | undefined> {
  const admin = testPostgresUrl();
  if (!admin) return undefined;
  const name = `t_${createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 24)}`;
  return createTestDatabase(admin, name);
}
