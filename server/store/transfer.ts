/**
 * Moving a data dir's SQLite database to PostgreSQL (prisma/README.md): `laneboard db export`
 * writes every table as JSON Lines, `laneboard db import` reads them into a migrated, empty
 * PostgreSQL database.
 *
 * Format (one JSON object per line): first `{ format: "laneboard-db", version: 1, schemaVersion,
 * exportedAt }`, then `{ table, row }` for every row, tables parents first (by their foreign
 * keys), rows in primary-key order. Values are as SQLite holds them; the import converts them by
 * the target column's type (times as UTC, whatever SQLite text or epoch form they were written in).
 *
 * Tables are read from the database itself (`sqlite_master`, `PRAGMA foreign_key_list`), so a
 * table added by any later migration moves too. Not moved: Prisma's `_prisma_migrations` (the
 * target has its own, and must be at the same schema version) and `Node` (nodes register again).
 * Ids are kept: event cursors and lane ids stay valid, and the target's id sequences are moved
 * past the imported ids.
 */
import { createReadStream } from "node:fs";
import readline from "node:readline";
import Database from "better-sqlite3";
import type pg from "pg";
import { AppError } from "@/lib/errors";

/** Tables that are not copied (see the module comment). */
const SKIPPED = new Set(["_prisma_migrations", "Node"]);
/** Rows per INSERT statement. */
const BATCH = 200;

export interface ExportHeader {
  format: "laneboard-db";
  version: 1;
  schemaVersion: string;
  exportedAt: string;
}

/** Table names, parents before children (foreign keys), then by name. */
export function tableOrder(tables: string[], parentsOf: (t: string) => string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (t: string, path: Set<string>) => {
    if (seen.has(t) || path.has(t)) return;
    path.add(t);
    for (const p of parentsOf(t).sort()) if (tables.includes(p) && p !== t) visit(p, path);
    seen.add(t);
    out.push(t);
  };
  for (const t of [...tables].sort()) visit(t, new Set());
  return out;
}

/**
 * Write a SQLite database file's tables as JSON Lines through `write` (one line per call).
 * @returns rows written per table
 * @throws AppError not_found when the file has no Laneboard tables
 */
export async function exportSqlite(file: string, write: (line: string) => Promise<void> | void): Promise<Record<string, number>> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
    if (!tables.includes("Lane")) throw new AppError("not_found", `${file} is not a Laneboard database (no Lane table)`);
    const latest = db.prepare("SELECT max(migration_name) AS m FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL").get() as { m: string | null };
    const header: ExportHeader = { format: "laneboard-db", version: 1, schemaVersion: latest.m ?? "none", exportedAt: new Date().toISOString() };
    await write(JSON.stringify(header));
    const parents = (t: string) => (db.prepare(`PRAGMA foreign_key_list("${t}")`).all() as { table: string }[]).map((r) => r.table);
    const counts: Record<string, number> = {};
    for (const table of tableOrder(tables.filter((t) => !SKIPPED.has(t)), parents)) {
      const pk = (db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string; pk: number }[]).filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => `"${c.name}"`);
      counts[table] = 0;
      for (const row of db.prepare(`SELECT * FROM "${table}"${pk.length ? ` ORDER BY ${pk.join(", ")}` : ""}`).iterate()) {
        await write(JSON.stringify({ table, row }));
        counts[table]++;
      }
    }
    return counts;
  } finally {
    db.close();
  }
}

/** A SQLite time (ISO text, `YYYY-MM-DD HH:MM:SS` UTC from CURRENT_TIMESTAMP, or epoch ms) as an ISO string. */
export function sqliteTime(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return new Date(v).toISOString();
  const s = String(v);
  if (/^\d+$/.test(s)) return new Date(Number(s)).toISOString();
  const utc = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$/.test(s) ? `${s.replace(" ", "T")}Z` : s;
  const d = new Date(utc);
  if (Number.isNaN(d.getTime())) throw new AppError("invalid_input", `not a time: ${JSON.stringify(s)}`);
  return d.toISOString();
}

/**
 * Read an export (JSON Lines file) into a PostgreSQL database, in one transaction.
 * @param client a connected client of the target database, already migrated
 * @returns rows imported per table
 * @throws AppError invalid_input (not an export; another schema version), conflict (the
 *   database already has lanes); the transaction is rolled back on any error
 */
export async function importToPostgres(client: pg.Client, file: string, opts: { schemaVersion: string }): Promise<Record<string, number>> {
  let header: ExportHeader | null = null;
  const counts: Record<string, number> = {};
  const types = new Map<string, Map<string, string>>();
  const pending = new Map<string, Record<string, unknown>[]>();
  const flush = async (table: string) => {
    const rows = pending.get(table);
    if (!rows?.length) return;
    pending.set(table, []);
    const cols = types.get(table)!;
    const names = Object.keys(rows[0]!).filter((c) => cols.has(c));
    const values: unknown[] = [];
    const tuples = rows.map((r) => `(${names.map((c) => `$${values.push(convert(r[c], cols.get(c)!))}::${cast(cols.get(c)!)}`).join(", ")})`);
    await client.query(`INSERT INTO "${table}" (${names.map((c) => `"${c}"`).join(", ")}) VALUES ${tuples.join(", ")}`, values);
  };
  await client.query("BEGIN");
  try {
    const [{ n }] = (await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM "Lane"`)).rows as [{ n: string }];
    if (Number(n) > 0) throw new AppError("conflict", `the target database already holds ${n} lane(s); import only into an empty one`);
    let order: string[] = [];
    // Opened only now, right before it is iterated: lines a readline interface emits before its
    // async iterator exists are lost (a small file would read as empty after the awaits above).
    const lines = readline.createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
    for await (const text of lines) {
      if (!text.trim()) continue;
      const msg = JSON.parse(text) as ExportHeader | { table: string; row: Record<string, unknown> };
      if (!header) {
        if (!("format" in msg) || msg.format !== "laneboard-db" || msg.version !== 1) throw new AppError("invalid_input", `${file} is not a Laneboard export`);
        if (msg.schemaVersion !== opts.schemaVersion)
          throw new AppError("invalid_input", `the export is of schema ${msg.schemaVersion}, the database is at ${opts.schemaVersion}: export and import with the same Laneboard version`);
        header = msg;
        continue;
      }
      if (!("table" in msg)) continue;
      const { table, row } = msg;
      if (!types.has(table)) {
        const { rows } = await client.query<{ column_name: string; data_type: string }>("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1", [table]);
        if (rows.length === 0) throw new AppError("invalid_input", `the database has no table ${table}`);
        types.set(table, new Map(rows.map((r) => [r.column_name, r.data_type])));
        for (const t of order) await flush(t);
        order = [...order, table];
      }
      let list = pending.get(table);
      if (!list) pending.set(table, (list = []));
      list.push(row);
      counts[table] = (counts[table] ?? 0) + 1;
      if (list.length >= BATCH) await flush(table);
    }
    if (!header) throw new AppError("invalid_input", `${file} is empty`);
    for (const t of order) await flush(t);
    // Sequences (autoincrement ids: event cursors) continue after the imported ids.
    const serials = await client.query<{ table_name: string; column_name: string }>(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
    );
    for (const s of serials.rows) {
      await client.query(`SELECT setval(pg_get_serial_sequence('"${s.table_name}"', '${s.column_name}'), COALESCE(max("${s.column_name}"), 1), max("${s.column_name}") IS NOT NULL) FROM "${s.table_name}"`);
    }
    await client.query("COMMIT");
    return counts;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

const cast = (t: string) => (t.startsWith("timestamp") ? "timestamp(3)" : t === "double precision" ? "float8" : t === "integer" ? "int4" : t === "bigint" ? "int8" : t === "boolean" ? "bool" : "text");

function convert(v: unknown, t: string): unknown {
  if (v === null || v === undefined) return null;
  if (t.startsWith("timestamp")) return sqliteTime(v)!.replace("Z", "");
  if (t === "boolean") return v === 1 || v === true || v === "1" || v === "true";
  return v;
}
