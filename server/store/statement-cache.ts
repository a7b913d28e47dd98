/**
 * A prepared-statement cache for the better-sqlite3 connection under Prisma's driver adapter.
 *
 * Why: `@prisma/adapter-better-sqlite3` (7.10) calls `db.prepare(sql)` for every query it runs
 * and drops the statement after one use. Prisma's SQL names every column of a model, and SQLite
 * parses and plans it each time: about 0.2 ms of the server's main thread per query, measured in
 * a CPU profile of lane creation (a lane's life runs ~65 queries, nearly all of a dozen shapes).
 * Kept statements are planned once; SQLite re-prepares one itself if the schema changed since.
 *
 * How: the connection's `prepare` is replaced by one that keeps the last {@link MAX_STATEMENTS}
 * statements by SQL text (least recently used dropped first: an `IN (?,?,…)` list makes a new text
 * per length) and hands out a view of the kept statement. A better-sqlite3 statement can be
 * `bind()`-ed only once, so the view's `bind(args)` does not bind the statement: it returns an
 * object that passes `args` to each run instead. Every call is synchronous, so one statement is
 * never used by two queries at once.
 *
 * The view covers what the adapter uses of a statement — `bind(args)`, then `reader`,
 * `columns()`, `raw().all()` or `run()`; `run()` unbound (its `BEGIN`) — and nothing else; the
 * connection is the adapter's own, used by nothing else. A newer adapter using more of it fails
 * the store's tests (statement-cache.test.ts drives the adapter through Prisma).
 */
import type BetterSqlite3 from "better-sqlite3";

/**
 * Statements kept per connection: a lane's life uses ~35 SQL texts. Kept small for the server's
 * RSS (a 40-column statement holds ~30 KiB; 64 short ones measured ~2 MiB, 256 with long
 * `IN` lists ~13 MiB).
 */
export const MAX_STATEMENTS = 64;

const CACHED = Symbol("laneboard.statementCache");

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/** What the adapter gets for `bind(args)`: the kept statement, run with `args`. */
interface BoundView {
  readonly reader: boolean;
  columns(): BetterSqlite3.ColumnDefinition[];
  raw(): { all(): unknown[] };
  run(): BetterSqlite3.RunResult;
}

/** What the adapter gets from `prepare(sql)`. */
interface StatementView {
  readonly reader: boolean;
  bind(args: unknown[]): BoundView;
  run(): BetterSqlite3.RunResult;
}

/**
 * Replace `db.prepare` with a cached one (see the module's comment). Idempotent per connection.
 * @param db the better-sqlite3 connection the adapter holds (`adapter.client`)
 * @returns the number of statements prepared so far (counted for the tests)
 */
export function cacheStatements(db: BetterSqlite3.Database): { prepared(): number } {
  const marked = db as BetterSqlite3.Database & { [CACHED]?: { prepared(): number } };
  if (marked[CACHED]) return marked[CACHED];
  const prepare = db.prepare.bind(db) as (sql: string) => Statement;
  const kept = new Map<string, Statement>();
  let prepared = 0;
  const get = (sql: string): Statement => {
    let stmt = kept.get(sql);
    if (stmt) {
      kept.delete(sql); // re-inserted below: most recently used last
    } else {
      stmt = prepare(sql); // throws for bad SQL: nothing kept
      prepared++;
      if (kept.size >= MAX_STATEMENTS) kept.delete(kept.keys().next().value!);
    }
    kept.set(sql, stmt);
    return stmt;
  };
  const view = (stmt: Statement): StatementView => ({
    reader: stmt.reader,
    run: () => stmt.run(),
    bind: (args) => ({
      reader: stmt.reader,
      columns: () => stmt.columns(),
      raw: () => ({ all: () => stmt.raw(true).all(...args) }),
      run: () => stmt.run(...args),
    }),
  });
  (db as unknown as { prepare: (sql: string) => StatementView }).prepare = (sql) => view(get(sql));
  const counter = { prepared: () => prepared };
  marked[CACHED] = counter;
  return counter;
}
