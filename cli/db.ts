/**
 * `laneboard db export|import`: move a data dir's SQLite database to PostgreSQL
 * (server/store/transfer.ts; prisma/README.md). Both work on the databases directly, not through
 * a server: stop the server first.
 */
import { createWriteStream } from "node:fs";
import path from "node:path";
import { once } from "node:events";
import { Command } from "commander";
import { ApiError } from "@/lib/api-error";
import { AppError, httpStatusFor, isAppError } from "@/lib/errors";
import { databaseFile } from "@/server/store/db";
import { schemaVersion } from "@/server/store/dialect-schema";
import { applyPostgresMigrations } from "@/server/store/migrate-postgres";
import { connectClient, isPostgresUrl } from "@/server/store/postgres";
import { exportSqlite, importToPostgres } from "@/server/store/transfer";
import type { Ctx } from "./context";

/**
 * Run a local action: an AppError it throws is reported like the server's answer to the same
 * error (same JSON body and exit code: invalid input and conflicts are "refused").
 */
function local<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await fn(...args);
    } catch (err) {
      if (isAppError(err)) throw new ApiError(httpStatusFor(err.code), err.code, err.message, err.details);
      throw err;
    }
  };
}

export function dbCommand(ctx: Ctx): Command {
  const db = new Command("db").description("move a data dir's SQLite database to PostgreSQL (export, then import; stop the server first)");
  db.command("export")
    .description("write the data dir's SQLite database as JSON Lines")
    .requiredOption("--out <file>", "file to write")
    .action(
      ctx.run(local(async (o: { out: string }) => {
        const dataDir = path.resolve(ctx.globals().dataDir ?? process.env.LANEBOARD_DATA_DIR ?? "./.laneboard");
        const out = createWriteStream(path.resolve(o.out));
        const counts = await exportSqlite(databaseFile(dataDir), async (line) => {
          if (!out.write(line + "\n")) await once(out, "drain");
        });
        out.end();
        await once(out, "finish");
        ctx.out.result({ file: path.resolve(o.out), rows: counts }, () => `exported ${Object.values(counts).reduce((a, b) => a + b, 0)} rows to ${o.out}`);
      })),
    );
  db.command("import")
    .description("read an export into an empty PostgreSQL database (migrated first)")
    .requiredOption("--in <file>", "export to read")
    .option("--database-url <url>", "the PostgreSQL database (default: LANEBOARD_DATABASE_URL)")
    .action(
      ctx.run(local(async (o: { in: string; databaseUrl?: string }) => {
        const url = o.databaseUrl ?? process.env.LANEBOARD_DATABASE_URL;
        if (!url || !isPostgresUrl(url)) throw new AppError("invalid_input", "--database-url: a postgresql:// URL is needed");
        await applyPostgresMigrations(url);
        const client = await connectClient(url, { applicationName: "laneboard-import" });
        try {
          const counts = await importToPostgres(client, path.resolve(o.in), { schemaVersion: schemaVersion("postgresql") });
          ctx.out.result({ rows: counts }, () => `imported ${Object.values(counts).reduce((a, b) => a + b, 0)} rows`);
        } finally {
          await client.end();
        }
      })),
    );
  return db;
}
