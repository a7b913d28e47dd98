/**
 * Child-process entry that runs Prisma's schema engine compiled to WebAssembly
 * (`@prisma/schema-engine-wasm`, pinned to the CLI's engine hash; see docs toolchain.md §Prisma 4).
 *
 * Why a child process: the package imports its `.wasm` file as an ES module, which Node 20 only
 * allows with `--experimental-wasm-modules`; the server runs under tsx and the tests under vitest
 * without that flag. Started by `runSchemaEngine` (schema-engine.ts) as
 * `node --experimental-wasm-modules schema-engine-child.mjs`.
 *
 * Protocol: one JSON request on stdin, one JSON line on stdout, exit code 0 (ok) or 1 (error).
 *   { op: "apply", url, migrationsList }          -> { ok: true, result: { applied: string[] } }
 *   { op: "diff", migrationsList | null, schema } -> { ok: true, result: { changed: boolean, script: string } }
 *   any failure                                   -> { ok: false, message, code: Prisma code | null }
 * `provider` is "sqlite" (default) or "postgresql". `url` is `file:<absolute path>` of the SQLite
 * database or a `postgresql://` URL; `schema` is { path, content } of the Prisma schema;
 * `migrationsList` is the engine's MigrationList (read by schema-engine.ts the way the Prisma CLI
 * reads `prisma/migrations`). A `diff` replays the migrations in a shadow database (the adapter's
 * `connectToShadowDb`: in memory for SQLite; a temporary database on the server of `shadowUrl`
 * for PostgreSQL, dropped afterwards), so it never touches a real database.
 *
 * Plain JavaScript on purpose: it starts without a TypeScript loader, which keeps boot fast.
 */
import { randomUUID } from "node:crypto";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import { SchemaEngine } from "@prisma/schema-engine-wasm";

const NO_FILTERS = { externalTables: [], externalEnums: [] };

/** Read all of stdin as UTF-8. */
async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Let `executeRaw` run a multi-statement script without parameters.
 *
 * Why: when the wasm engine replays migrations into the shadow database (`diff` from
 * migrations), it sends each whole migration.sql through `executeRaw`, and neither driver takes
 * more than one statement there: better-sqlite3's `prepare` throws a RangeError before anything
 * runs, PostgreSQL refuses a prepared statement with several commands (42601, nothing runs). The
 * native engine executes such scripts as a batch; `executeScript` is the adapters' batch path,
 * the one `applyMigrations` already uses.
 * @param {any} adapter a connected SqlDriverAdapter
 */
function allowScriptsInExecuteRaw(adapter) {
  const executeRaw = adapter.executeRaw.bind(adapter);
  adapter.executeRaw = async (query) => {
    try {
      return await executeRaw(query);
    } catch (err) {
      const text = String(err?.message ?? "") + String(err?.cause?.message ?? "");
      const multiStatement = /more than one statement|multiple commands into a prepared statement/.test(text);
      if (!multiStatement || query.args.length > 0) throw err;
      await adapter.executeScript(query.sql);
      return 0;
    }
  };
  return adapter;
}

/**
 * Run a whole migration script as one simple-protocol query. Why: `@prisma/adapter-pg`'s
 * `executeScript` splits the script at every ";" and runs the pieces one by one, which cuts a
 * function body (`$$ … ; … $$`, our event trigger) apart. PostgreSQL itself runs a
 * multi-statement simple query in one implicit transaction, as the native engine sends it.
 * @param {any} adapter a connected PrismaPg adapter
 */
function wholeScripts(adapter) {
  const pool = adapter.underlyingDriver();
  adapter.executeScript = async (script) => {
    await pool.query(script);
  };
  catalogTypesAsText(pool);
  return adapter;
}

/**
 * PostgreSQL catalog types that `@prisma/adapter-pg` 7.10 has no column type for (it throws
 * "Column type 'char' could not be deserialized" while the engine reads the catalog of a shadow
 * database). pg returns their values as text, so they are reported as text (OID 25).
 * OIDs from pg_type: "char" 18, int2vector 22, regproc 24, xid 28, oidvector 30,
 * pg_node_tree 194, aclitem 1033, regclass 2205, regtype 2206, xid8 5069.
 */
const CATALOG_TEXT_OIDS = new Set([18, 22, 24, 28, 30, 194, 1033, 2205, 2206, 5069]);

/** Rewrite those types in every result's field list. @param {any} pool a pg.Pool */
function catalogTypesAsText(pool) {
  const query = pool.query.bind(pool);
  pool.query = async (...args) => {
    const result = await query(...args);
    for (const r of Array.isArray(result) ? result : [result]) for (const f of r?.fields ?? []) if (CATALOG_TEXT_OIDS.has(f.dataTypeID)) f.dataTypeID = 25;
    return result;
  };
}

/**
 * A PostgreSQL adapter factory for the engine, with a shadow database of our own: PrismaPg's
 * `connectToShadowDb` drops the shadow database before closing its pool (the drop fails:
 * "being accessed by other users"), and lets a connectionString override the shadow's name.
 * Ours ends the pool, then drops the database `WITH (FORCE)`.
 * @param {string} url
 */
function postgresFactory(url) {
  const main = new PrismaPg({ connectionString: url });
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: async () => allowScriptsInExecuteRaw(wholeScripts(await main.connect())),
    connectToShadowDb: async () => {
      const admin = wholeScripts(await main.connect());
      const name = `prisma_migrate_shadow_db_${randomUUID()}`;
      await admin.executeScript(`CREATE DATABASE "${name}"`);
      const u = new URL(url);
      u.pathname = `/${name}`;
      const shadow = wholeScripts(await new PrismaPg({ connectionString: u.toString() }).connect());
      const dispose = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        await dispose();
        await admin.executeScript(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await admin.dispose();
      };
      return allowScriptsInExecuteRaw(shadow);
    },
  };
}

/**
 * Build an engine over a driver adapter.
 * @param {"sqlite" | "postgresql"} provider
 * @param {string} url SQLite: `file:<path>` or `:memory:`; PostgreSQL: a `postgresql://` URL
 *   (for a diff: of the server where the shadow database is made)
 * @param {{ path: string, content: string } | undefined} schema
 */
async function newEngine(provider, url, schema) {
  let factory;
  if (provider === "postgresql") factory = postgresFactory(url);
  else {
    const sqlite = new PrismaBetterSqlite3({ url });
    factory = {
      provider: sqlite.provider,
      adapterName: sqlite.adapterName,
      connect: async () => allowScriptsInExecuteRaw(await sqlite.connect()),
      connectToShadowDb: async () => allowScriptsInExecuteRaw(await sqlite.connectToShadowDb()),
    };
  }
  const adapter = bindMigrationAwareSqlAdapterFactory(factory);
  // The engine logs through this callback (JSON lines); we keep stdout for the answer only.
  const log = () => {};
  return SchemaEngine.new({ datamodels: schema ? [[schema.path, schema.content]] : undefined }, log, adapter);
}

/** @param {any} request */
async function run(request) {
  if (request.op === "apply") {
    const engine = await newEngine(request.provider ?? "sqlite", request.url, undefined);
    try {
      const out = await engine.applyMigrations({ migrationsList: request.migrationsList, filters: NO_FILTERS });
      return { applied: out.appliedMigrationNames };
    } finally {
      engine.free();
    }
  }
  if (request.op === "diff") {
    const pg = request.provider === "postgresql";
    if (pg && !request.shadowUrl) throw new Error("a PostgreSQL diff needs shadowUrl (a server where a shadow database can be created)");
    const engine = await newEngine(request.provider ?? "sqlite", pg ? request.shadowUrl : ":memory:", request.schema);
    try {
      const from = request.migrationsList ? { tag: "migrations", ...request.migrationsList } : { tag: "empty" };
      const out = await engine.diff({
        from,
        to: { tag: "schemaDatamodel", files: [request.schema] },
        script: true,
        // exitCode: true makes the engine report 2 when the diff is non-empty (like `migrate diff --exit-code`).
        exitCode: true,
        filters: NO_FILTERS,
      });
      return { changed: out.exitCode === 2, script: out.stdout ?? "" };
    } finally {
      engine.free();
    }
  }
  throw new Error(`unknown op ${JSON.stringify(request.op)}`);
}

/** Write the answer line, then exit: a PostgreSQL adapter's idle pool would keep the process alive. */
function answer(line, code) {
  process.stdout.write(JSON.stringify(line) + "\n", () => process.exit(code));
}

try {
  const result = await run(JSON.parse(await readStdin()));
  answer({ ok: true, result }, 0);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  // The engine's errors carry Prisma's error code (P3009, P3018, P1014...).
  const code = typeof err?.code === "string" ? err.code : null;
  answer({ ok: false, message, code }, 1);
}
