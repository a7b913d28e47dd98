/**
 * V8 flags the Laneboard server runs with (`npm start`, `npm run dev`, the e2e server and the
 * process benchmark's server all use them; server/node-flags.test.ts keeps package.json in step).
 *
 * - `--max-semi-space-size=4` (MiB; Node 20's default grows to 16): the young generation stays
 *   small. The live log path allocates little per line (chunks, not line objects), so scavenges
 *   stay cheap, and a burst (100 lanes created at once) no longer leaves ~100 MB of heap committed.
 * - `--gc-memory-reducer-start-delay-ms=1000` (default 8000): once allocation calms down, V8's
 *   memory reducer returns unused heap pages within about a second instead of eight.
 *
 * Measured with `npm run bench:processes` (RSS rows), 100 lanes: idle RSS 326 MB → about 171 MB
 * together with Prisma's small query compiler (prisma/schema.prisma `compilerBuild`), with log
 * throughput within run-to-run noise.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4", "--gc-memory-reducer-start-delay-ms=1000"];
