/**
 * V8 flags and malloc settings the Laneboard server runs with (`npm start`, `npm run dev`, the
 * e2e server and the process benchmark's server all use them; server/node-flags.test.ts keeps
 * package.json and the e2e config in step).
 *
 * - `--max-semi-space-size=4` (MiB; Node 20's default grows to 16): the young generation stays
 *   small. The live log path allocates little per line (chunks, not line objects), so scavenges
 *   stay cheap, and a burst (100 lanes created at once) no longer leaves ~100 MB of heap committed.
 * - `--gc-memory-reducer-start-delay-ms=1000` (default 8000): once allocation calms down, V8's
 *   memory reducer returns unused heap pages within about a second instead of eight.
 *
 * - `--heap-growing-percent=20` (old generation may grow to 1.2× what survived the last full GC
 *   before the next one; V8's default factor is 1.1-4 by heap size and allocation rate): garbage
 *   promoted while serving (boot, board reads) is collected instead of sitting in a heap that was
 *   allowed to grow, since an idle server has no allocation left to trigger a GC. With 1,000 idle
 *   lanes, a forced full GC took RSS from 228 to 184 MiB; with this flag the idle server settles
 *   at about 200-215 MiB instead of 220-246 (probe runs at load 9-13), board p50 unchanged.
 *
 * Measured with `npm run bench:processes` (RSS rows), 100 lanes: idle RSS 326 MB → about 171 MB
 * together with Prisma's small query compiler (prisma/schema.prisma `compilerBuild`), with log
 * throughput within run-to-run noise.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4", "--gc-memory-reducer-start-delay-ms=1000", "--heap-growing-percent=20"];

/**
 * Environment the server starts with (same places as {@link SERVER_NODE_FLAGS}).
 *
 * `MALLOC_MMAP_THRESHOLD_=131072` (glibc, bytes): allocations of 128 KiB and more (log chunks,
 * packed output messages) are always mmapped and unmapped when freed. By default glibc raises
 * the threshold after the first such free and then serves them from its heap, which a burst of
 * output leaves fragmented and resident. Measured (quick bench, after the throughput runs):
 * RSS 214 → 149 MB with 100 idle lanes, throughput unchanged. glibc reads it once at start, so
 * {@link dropServerEnv} removes it again: supervised processes and git do not inherit it.
 */
export const SERVER_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: "131072" };

/** The start command's environment prefix for a shell (`KEY=value …`). */
export const SERVER_ENV_PREFIX = Object.entries(SERVER_ENV).map(([k, v]) => `${k}=${v}`).join(" ");

/** Remove {@link SERVER_ENV} from this process's environment (call first thing at start). */
export function dropServerEnv(): void {
  for (const [k, v] of Object.entries(SERVER_ENV)) if (process.env[k] === v) delete process.env[k];
}
