/**
 * Prisma 7 CLI configuration (read by `prisma generate`, and by `prisma migrate *` on machines
 * that can download Prisma's native schema engine).
 *
 * Laneboard itself never runs the migrate CLI: it applies `prisma/migrations` at boot through the
 * WebAssembly schema engine (server/store/migrate.ts) and creates new migrations with
 * `npm run db:migration -- <name>` (scripts/db-migration.ts). The folder layout is Prisma's
 * standard one, so `prisma migrate deploy` / `migrate status` agree with what the server did.
 *
 * DATABASE_URL is only needed by those CLI commands; the default points at the server's default
 * data dir (`./.laneboard/laneboard.db`, see server/config.ts and server/store/db.ts).
 */
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "file:./.laneboard/laneboard.db" },
});
