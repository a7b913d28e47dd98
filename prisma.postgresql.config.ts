/**
 * Prisma 7 CLI configuration for the PostgreSQL dialect, for machines that can download Prisma's
 * native schema engine: `prisma migrate status|deploy --config prisma.postgresql.config.ts` with
 * DATABASE_URL set to the `postgresql://` URL nodes use. Laneboard itself applies these migrations
 * at boot (server/store/migrate-postgres.ts). The schema is derived from prisma/schema.prisma by
 * `npm run db:generate` (prisma/README.md).
 */
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/postgresql/schema.prisma",
  migrations: { path: "prisma/postgresql/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost/laneboard" },
});
