/**
 * `npx tsx scripts/db-bench.ts [runs=5]` — what openDatabase adds to boot, in ms (median of runs).
 *
 * Each sample runs in a fresh `tsx` process, because the first PrismaClient of a process pays a
 * one-off start-up (loading its WebAssembly query compiler) that a booting server pays too:
 *   fresh     — empty data dir: mkdir, engine child applies every migration, client opens
 *   migrated  — same dir again: fast path (reads _prisma_migrations), client opens
 *   warm      — a second open of the migrated dir in the same process (no one-off costs)
 *   migrate   — applyMigrations alone on the migrated dir (the migration check by itself)
 * A benchmark, not a test: it prints numbers and asserts nothing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { closeDatabase, databaseFile, openDatabase } from "../server/store/db";
import { applyMigrations } from "../server/store/migrate";

type Sample = { fresh: number; migrated: number; warm: number; migrate: number };

/** ms taken by one openDatabase (and close) of dataDir. */
async function timeOpen(dataDir: string): Promise<number> {
  const t0 = performance.now();
  const db = await openDatabase(dataDir);
  const ms = performance.now() - t0;
  await closeDatabase(db);
  return ms;
}

async function timeMigrate(dataDir: string): Promise<number> {
  const t0 = performance.now();
  await applyMigrations(databaseFile(dataDir));
  return performance.now() - t0;
}

/** One process, one measurement: prints { ms } for `open` or `reopen` (open twice, report the second). */
async function child(mode: string, dataDir: string): Promise<void> {
  if (mode === "open") return void console.log(JSON.stringify({ ms: await timeOpen(dataDir) }));
  if (mode === "migrate") return void console.log(JSON.stringify({ ms: await timeMigrate(dataDir) }));
  await timeOpen(dataDir);
  console.log(JSON.stringify({ ms: await timeOpen(dataDir) }));
}

async function sample(self: string): Promise<Sample> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-dbbench-"));
  try {
    const measure = async (mode: string) => {
      const { stdout } = await execa(process.execPath, [...process.execArgv, self, "--child", mode, dir]);
      return (JSON.parse(stdout.trim().split("\n").pop()!) as { ms: number }).ms;
    };
    const fresh = await measure("open");
    const migrated = await measure("open");
    const warm = await measure("reopen");
    const migrate = await measure("migrate");
    return { fresh, migrated, warm, migrate };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const args = process.argv.slice(2);
  if (args[0] === "--child") return child(args[1]!, args[2]!);
  const runs = Number(args[0] ?? 5);
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await sample(self));
  for (const key of ["fresh", "migrated", "warm", "migrate"] as const) {
    const values = samples.map((s) => s[key]);
    console.log(`${key.padEnd(9)} median ${median(values).toFixed(0)} ms  (runs: ${values.map((v) => v.toFixed(0)).join(", ")})`);
  }
}

await main();
