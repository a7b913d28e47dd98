/**
 * The program both systems run in `npm run bench:processes` (plain JS so neither system pays
 * for a TypeScript loader). Usage:
 *
 *   node printer.mjs flood <goFile> <durationMs> <maxLines> <countFile>
 *       Start (see below), then write fixed 80-byte lines to stdout as fast as possible, 100
 *       lines per write, until `durationMs` has passed or `maxLines` are written; then write
 *       "<lines> <bytes> <cpuMicros> <pid>\n" to `countFile` (cpuMicros: the printer's own
 *       user + system CPU time from the start to now), hold (below), exit 0.
 *   node printer.mjs rate <goFile> <durationMs> <linesPerSecond> <countFile>
 *       Start, then write lines at a steady rate (every 5 ms, the lines due by then), each
 *       starting with its write time in epoch ms with µs precision
 *       (`performance.timeOrigin + performance.now()`); then the count file, hold, exit 0.
 *   Hold: stay alive, idle, until SIGUSR2 (the bench sends it once it has measured the run) or
 *   for at most 10 minutes. A Node process's exit costs ~9 ms of CPU here (median of 20 flood
 *   printers, wait4 rusage against the printer's own count at its end), so 100 printers exiting
 *   inside the measured window cost ~0.9 CPU s of the 2-core machine's ~2.8. PM2 keeps most of
 *   its apps alive past the window (its fork container holds an IPC channel: 68–75 of 100 were still
 *   alive at the last receipt), while under Laneboard every printer exited inside it. Holding every
 *   printer takes that cost out of both systems' windows: the run measures log delivery, not
 *   Node's teardown.
 *   Start: warm up (below), create `<countFile>.ready`, poll every 20 ms until `goFile` exists,
 *   and wait until the epoch ms it holds. So every printer of a run starts at the same moment however long the
 *   system took to start them all (the bench writes the go file once every printer is ready).
 *   node printer.mjs idle [child]
 *       Wait forever; with `child`, first start one child (`sleep 3600`) so the process is a small
 *       tree. Default signal dispositions, so SIGTERM/SIGINT end it at once.
 *
 * Writes go through `process.stdout.write`, waiting for 'drain' when it reports a full buffer:
 * synchronous for a file (Laneboard's wrapper appends to the log file) and for a pipe on Linux
 * (PM2 reads a pipe), so a reader that falls behind slows the printer down instead of making it
 * buffer without bound.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

const [mode, ...args] = process.argv.slice(2);
const LINE_BYTES = 80;
const now = () => performance.timeOrigin + performance.now();

/** Write the count file atomically: the bench polls for it and must never read it half-written. */
function writeCount(countFile, lines, bytes, cpu0) {
  const { user, system } = process.cpuUsage(cpu0);
  writeFileSync(`${countFile}.tmp`, `${lines} ${bytes} ${user + system} ${process.pid}\n`);
  renameSync(`${countFile}.tmp`, countFile);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Warm-up, before readiness is announced: create the stdout stream (a file: a SyncWriteStream; a
 * pipe: a net.Socket with its handle) and run the line-building code once, so its bytecode is
 * compiled and its inline caches filled. Cold, the first 150 ms after the go cost each of 50
 * rate printers ~6 ms of CPU against ~3.3 ms per 150 ms later (perf sched, Laneboard run), so the
 * 50 of them filled both cores and every system's first lines waited for the printers, not for
 * delivery (up to 56 ms before the server got a CPU). Nothing is written.
 */
function warmUp() {
  void process.stdout;
  for (let i = 0; i < 100; i++) line(`${now().toFixed(3)} ${String(i).padStart(9, "0")}`);
}

/** Warm up, announce readiness, wait for the go file, then for the start time it holds; returns that time. */
async function ready(goFile, countFile) {
  warmUp();
  writeFileSync(`${countFile}.ready`, "");
  while (!existsSync(goFile)) await sleep(20);
  const startAt = Number(readFileSync(goFile, "utf8"));
  await sleep(Math.max(0, startAt - Date.now()));
  return startAt;
}

function write(chunk) {
  if (process.stdout.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => process.stdout.once("drain", resolve));
}

/** One line of exactly LINE_BYTES bytes (newline included) starting with `head`. */
function line(head) {
  return head.length >= LINE_BYTES - 1 ? `${head.slice(0, LINE_BYTES - 1)}\n` : `${head} ${"x".repeat(LINE_BYTES - 2 - head.length)}\n`;
}

/** Hold (see above): the SIGUSR2 listener is installed before the count file tells the bench our pid. */
function hold() {
  const timer = setTimeout(() => process.exit(0), 600_000);
  process.once("SIGUSR2", () => {
    clearTimeout(timer);
    process.exit(0);
  });
}

async function flood(goFile, durationMs, maxLines, countFile) {
  const startAt = await ready(goFile, countFile);
  const cpu0 = process.cpuUsage();
  const end = startAt + durationMs;
  let lines = 0;
  let bytes = 0;
  while (lines < maxLines && Date.now() < end) {
    const n = Math.min(100, maxLines - lines);
    let chunk = "";
    for (let i = 0; i < n; i++) chunk += line(`${process.pid} ${String(lines + i).padStart(9, "0")}`);
    await write(chunk);
    lines += n;
    bytes += chunk.length;
  }
  hold();
  writeCount(countFile, lines, bytes, cpu0);
}

async function rate(goFile, durationMs, perSecond, countFile) {
  const startAt = await ready(goFile, countFile);
  const cpu0 = process.cpuUsage();
  let lines = 0;
  let bytes = 0;
  const total = Math.floor((perSecond * durationMs) / 1000);
  while (lines < total) {
    const due = Math.min(total, Math.floor(((Date.now() - startAt) * perSecond) / 1000));
    if (due > lines) {
      let chunk = "";
      const t = now().toFixed(3);
      for (; lines < due; lines++) chunk += line(`${t} ${lines}`);
      bytes += chunk.length;
      await write(chunk);
    }
    await sleep(5);
  }
  hold();
  writeCount(countFile, lines, bytes, cpu0);
}

function idle(withChild) {
  if (withChild) spawn("sleep", ["3600"], { stdio: "ignore" });
  setInterval(() => undefined, 1 << 30);
}

const num = (s) => {
  const n = Number(s);
  if (!Number.isFinite(n)) throw new Error(`printer: not a number: ${s}`);
  return n;
};

if (mode === "flood") await flood(args[0], num(args[1]), num(args[2]), args[3]);
else if (mode === "rate") await rate(args[0], num(args[1]), num(args[2]), args[3]);
else if (mode === "idle") idle(args[0] === "child");
else {
  process.stderr.write(`printer: unknown mode ${mode}\n`);
  process.exit(2);
}
