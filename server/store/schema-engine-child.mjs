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
 * `url` is `file:<absolute path>` of the SQLite database; `schema` is { path, content } of the
 * Prisma schema; `migrationsList` is the engine's MigrationList (read by schema-engine.ts the way
 * the Prisma CLI reads `prisma/migrations`). A `diff` replays the migrations in an in-memory
 * shadow database (the adapter's `connectToShadowDb`), so it never touches a real database file.
 *
 * Plain JavaScript on purpose: it starts without a TypeScript loader, which keeps boot fast.
 */
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
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
 * migrations), it sends each whole migration.sql through `executeRaw`, and better-sqlite3's
 * `prepare` refuses more than one statement (RangeError, thrown while compiling, before anything
 * runs). The native engine executes such scripts as a batch; `executeScript` (`Database.exec`) is
 * the adapter's batch path, the one `applyMigrations` already uses.
 * @param {any} adapter a connected SqlDriverAdapter from PrismaBetterSqlite3
 */
function allowScriptsInExecuteRaw(adapter) {
  const executeRaw = adapter.executeRaw.bind(adapter);
  adapter.executeRaw = async (query) => {
    try {
      return await executeRaw(query);
    } catch (err) {
      const multiStatement = err instanceof RangeError && /more than one statement/.test(err.message);
      if (!multiStatement || query.args.length > 0) throw err;
      await adapter.executeScript(query.sql);
      return 0;
    }
  };
  return adapter;
}

/**
 * Build an engine over a better-sqlite3 driver adapter.
 * @param {string} url `file:<path>` or `:memory:`
 * @param {{ path: string, content: string } | undefined} schema
 */
async function newEngine(url, schema) {
  const sqlite = new PrismaBetterSqlite3({ url });
  const factory = {
    provider: sqlite.provider,
    adapterName: sqlite.adapterName,
    connect: async () => allowScriptsInExecuteRaw(await sqlite.connect()),
    connectToShadowDb: async () => allowScriptsInExecuteRaw(await sqlite.connectToShadowDb()),
  };
  const adapter = bindMigrationAwareSqlAdapterFactory(factory);
  // The engine logs through this callback (JSON lines); we keep stdout for the answer only.
  const log = () => {};
  return SchemaEngine.new({ datamodels: schema ? [[schema.path, schema.content]] : undefined }, log, adapter);
}

/** @param {any} request */
async function run(request) {
  if (request.op === "apply") {
    const engine = await newEngine(request.url, undefined);
    try {
      const out = await engine.applyMigrations({ migrationsList: request.migrationsList, filters: NO_FILTERS });
      return { applied: out.appliedMigrationNames };
    } finally {
      engine.free();
    }
  }
  if (request.op === "diff") {
    const engine = await newEngine(":memory:", request.schema);
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

try {
  const result = await run(JSON.parse(await readStdin()));
  process.stdout.write(JSON.stringify({ ok: true, result }) + "\n");
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  // The engine's errors carry Prisma's error code (P3009, P3018, P1014...).
  const code = typeof err?.code === "string" ? err.code : null;
  process.stdout.write(JSON.stringify({ ok: false, message, code }) + "\n");
  process.exitCode = 1;
}
