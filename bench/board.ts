/**
 * `npm run bench:board`: the board at scale against baselines measured in the same run, printed
 * as a table (and saved to bench/results/board-latest.json):
 *
 * - `GET /api/v1/board` p95 at 1,000 and 5,000 lanes (target ≤ 25 ms), request sent to last byte
 *   received as HTTP load tools time it (the client's gunzip and decode reported beside it), vs
 *   reading the same Lane rows raw with better-sqlite3 (the floor);
 * - first render in chromium (≤ 1 s, ≤ 3,000 DOM nodes) vs an empty board;
 * - main-thread long tasks while 100 lane events per second arrive (none over 50 ms), made by
 *   agent lanes as running agents make them (bench/board/chatty-agent.mjs);
 * - the server's RSS with 1,000 idle lanes (≤ 250 MB) vs with none;
 * - creating a lane on a small repo, p50 (≤ 100 ms) vs `git worktree add` alone: one create at
 *   a time (300 ms apart, as a person or a claw creates lanes), and 25 back to back, each lane's
 *   worker (`true`) starting and ending while the next creates are answered (a burst);
 * - scrolling fps with 100 lanes streaming output (≥ 50) vs with none streaming.
 *
 * Usage: `npm run bench:board [-- --quick] [-- --only=scroll|create|scale1000]` (needs `next build`
 * first; --quick: fewer samples; --only=scroll: the small board's rows alone, lane creation and
 * scrolling; --only=create: the lane-creation row alone; --only=scale1000: the 1,000-lane rows
 * alone, their baselines (the empty board, RSS without lanes) not measured; all through the same code as the full
 * run, for iterating on them, saved to board-<only>-latest.json). `BENCH_TRACE=<directory>`
 * records Chrome traces of both scrolls (scroll-quiet.json, scroll-streaming.json) and of the
 * 1,000-lane board while agents make lane events (events-1000.json) (chrome://tracing, Perfetto)
 * to see where the main thread goes.
 */
import { writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import type { BrowserContext } from "@playwright/test";
import Database from "better-sqlite3";
import { execa } from "execa";
import { firstRender, launch, longTasksDuring, scrollFps, signIn } from "./board/browser";
import { DB_FILE_NAME } from "../server/store/db";
import { startBenchServer, type BenchServer } from "./board/server";
import { startChattyLanes } from "./board/chatty";
import { machineBusySeconds, serverCpuSeconds } from "./lib/measure";

const quick = process.argv.includes("--quick");
const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length) ?? null;
if (only !== null && !["scroll", "create", "scale1000"].includes(only)) throw new Error(`--only=${only}: only "scroll", "create" and "scale1000" are known`);
const SAMPLES = quick ? 30 : 100;
const PORT = Number(process.env.BENCH_PORT ?? 3960);
/** Agent lanes making the event load: about two `worker.activity` events a second each. */
const CHATTY_LANES = Number(process.env.BENCH_CHATTY_LANES ?? 60);

interface Row {
  what: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number | null;
  target: string;
  ok: boolean;
}
const rows: Row[] = [];
const add = (r: Row) => {
  rows.push(r);
  console.error(`  ${r.what}: ${r.value.toFixed(1)} ${r.unit}`);
};

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/**
 * One `GET /api/v1/board` as an HTTP load tool times it (wrk, autocannon): from sending the
 * request to the last byte of the answer, with `Accept-Encoding: gzip` as browsers send it and
 * the bytes left as they came (node:http, not fetch, which would also gunzip and decode them).
 * @returns ms, and the answer's bytes (gzipped when the server gzipped it)
 */
function getBoard(s: BenchServer): Promise<{ ms: number; body: Buffer; gzipped: boolean }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(`${s.url}/api/v1/board`, { headers: { authorization: s.headers.authorization!, "accept-encoding": "gzip" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ ms: performance.now() - t, body: Buffer.concat(chunks), gzipped: res.headers["content-encoding"] === "gzip" }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

async function boardP95(s: BenchServer): Promise<{ p95: number; rawP95: number; decodeP95: number }> {
  await getBoard(s); // warm: summaries folded, route compiled
  const times: number[] = [];
  let last: Awaited<ReturnType<typeof getBoard>> | null = null;
  for (let i = 0; i < SAMPLES; i++) times.push((last = await getBoard(s)).ms);
  // What a client spends on top to read the answer as text (gunzip, UTF-8), reported beside it.
  const decode: number[] = [];
  for (let i = 0; i < SAMPLES; i++) decode.push(await timeMs(async () => new TextDecoder().decode(last!.gzipped ? gunzipSync(last!.body) : last!.body)));
  const raw = new Database(path.join(s.dataDir, DB_FILE_NAME), { readonly: true });
  const rawTimes: number[] = [];
  try {
    for (let i = 0; i < SAMPLES; i++) rawTimes.push(await timeMs(async () => JSON.stringify(raw.prepare('SELECT * FROM "Lane"').all())));
  } finally {
    raw.close();
  }
  return { p95: quantile(times, 0.95), rawP95: quantile(rawTimes, 0.95), decodeP95: quantile(decode, 0.95) };
}

async function atScale(lanes: number, browser: Awaited<ReturnType<typeof launch>>, empty: { ms: number; nodes: number }, idleRss: number): Promise<void> {
  const s = await startBenchServer(lanes, PORT + 1);
  const board = await signIn(browser, s.url, s.token);
  try {
    // Measured on the settled board (what a person opens after boot), and the settling reported.
    const settle = await s.settled();
    add({ what: `board settled after boot, ${lanes} lanes`, value: settle, unit: "ms", baseline: "—", baselineValue: null, target: "(reported)", ok: true });
    const b = await boardP95(s);
    add({ what: `GET /api/v1/board p95, ${lanes} lanes`, value: b.p95, unit: "ms", baseline: "raw SELECT of the Lane rows + JSON", baselineValue: b.rawP95, target: "≤ 25 ms", ok: b.p95 <= 25 });
    add({ what: `a client's gunzip + UTF-8 decode of that answer, p95, ${lanes} lanes`, value: b.decodeP95, unit: "ms", baseline: "—", baselineValue: null, target: "(reported)", ok: true });
    const fr = await firstRender(board, s.url);
    add({ what: `first render, ${lanes} lanes`, value: fr.ms, unit: "ms", baseline: "empty board", baselineValue: empty.ms, target: "≤ 1000 ms", ok: fr.ms <= 1000 });
    add({ what: `DOM elements at first render, ${lanes} lanes`, value: fr.nodes, unit: "nodes", baseline: "empty board", baselineValue: empty.nodes, target: "≤ 3000", ok: fr.nodes <= 3000 });
    if (lanes === 1000) {
      const rss = await s.rss();
      add({ what: "server RSS, 1000 idle lanes", value: rss / 2 ** 20, unit: "MiB", baseline: "no lanes", baselineValue: idleRss / 2 ** 20, target: "≤ 250 MB (238.4 MiB)", ok: rss <= 250e6 });
      const seconds = quick ? 5 : 10;
      const chatty = await startChattyLanes(s, CHATTY_LANES, seconds);
      let rate = 0;
      const tasks = await longTasksDuring(board, s.url, async () => void (rate = await chatty.measure()), process.env.BENCH_TRACE ? path.join(process.env.BENCH_TRACE, "events-1000.json") : undefined);
      const max = tasks.length ? Math.max(...tasks) : 0;
      add({ what: `longest main-thread task, ${CHATTY_LANES} agents making lane events`, value: max, unit: "ms", baseline: `${tasks.length} tasks over 50 ms`, baselineValue: null, target: "none over 50 ms", ok: max <= 50 });
      add({ what: `lane events stored per second meanwhile`, value: rate, unit: "events/s", baseline: "—", baselineValue: null, target: "≥ 100", ok: rate >= 100 });
    }
  } finally {
    await board.close();
    await s.stop();
  }
}

/** Spacing of the one-at-a-time creates in ms: the previous lane has started and ended by then. */
const CREATE_SPACING_MS = 300;

async function creation(s: BenchServer): Promise<void> {
  const n = quick ? 10 : 25;
  const post = (i: number, what: string) => {
    const packet = { objective: `bench ${what} ${i}`, repo: s.repoId, branch: `lane/bench-${what}-${i}`, worker: { engine: "shell", command: ["true"] } };
    return timeMs(() => fetch(`${s.url}/api/v1/lanes`, { method: "POST", headers: s.headers, body: JSON.stringify(packet) }).then((r) => r.text()));
  };
  const spaced: number[] = [];
  for (let i = 0; i < (quick ? 5 : 15); i++) {
    spaced.push(await post(i, "one"));
    await new Promise((resolve) => setTimeout(resolve, CREATE_SPACING_MS));
  }
  const create: number[] = [];
  // The server's CPU over the creations (its git helper's included), besides their latency: far
  // less moved by other load on the machine, so it shows a change the p50 may hide. The lanes'
  // `true` workers start and end meanwhile, so it includes most of their lives.
  const cpu0 = serverCpuSeconds(s.pid);
  for (let i = 0; i < n; i++) create.push(await post(i, "create"));
  const cpuMs = ((serverCpuSeconds(s.pid) - cpu0) * 1000) / n;
  const git: number[] = [];
  for (let i = 0; i < n; i++) {
    git.push(await timeMs(() => execa("git", ["worktree", "add", "-q", "-b", `bench-git-${i}`, path.join(s.dataDir, `gitwt-${i}`), "main"], { cwd: s.repoDir })));
  }
  const one = quantile(spaced, 0.5);
  add({ what: `create a lane, p50, one at a time (${CREATE_SPACING_MS} ms apart)`, value: one, unit: "ms", baseline: "git worktree add alone", baselineValue: quantile(git, 0.5), target: "≤ 100 ms", ok: one <= 100 });
  const p50 = quantile(create, 0.5);
  add({ what: `create a lane, p50, ${n} back to back (a burst)`, value: p50, unit: "ms", baseline: "git worktree add alone", baselineValue: quantile(git, 0.5), target: "≤ 100 ms", ok: p50 <= 100 });
  add({ what: "server CPU per lane created (with its git helper)", value: cpuMs, unit: "ms", baseline: "—", baselineValue: null, target: "(reported)", ok: true });
}

/** Where to write the trace of one scroll, when BENCH_TRACE names a directory. */
const trace = (name: string) => (process.env.BENCH_TRACE ? path.join(process.env.BENCH_TRACE, `scroll-${name}.json`) : undefined);

async function streaming(s: BenchServer, browser: BrowserContext): Promise<void> {
  const quiet = await scrollFps(browser, s.url, 4000, trace("quiet"));
  for (let i = 0; i < 100; i++) {
    const packet = { objective: `stream ${i}`, repo: s.repoId, branch: `lane/bench-stream-${i}`, worker: { engine: "script", script: [{ op: "progress", count: 100000, intervalMs: 50, text: "streaming" }] } };
    await fetch(`${s.url}/api/v1/lanes`, { method: "POST", headers: s.headers, body: JSON.stringify(packet) }).then((r) => r.text());
  }
  // Measured once all 100 stream, not while some still start (a start is a process or two
  // launched, far more CPU than streaming): up to 120 s, then whatever runs is what is measured.
  const runningNow = async () => ((await (await fetch(`${s.url}/api/v1/board`, { headers: s.headers })).json()) as { lanes: { objective: string; state: string }[] }).lanes.filter((l) => l.objective.startsWith("stream ") && l.state === "running").length;
  for (const t0 = performance.now(); (await runningNow()) < 100 && performance.now() - t0 < 120_000; ) await new Promise((r) => setTimeout(r, 500));
  await new Promise((r) => setTimeout(r, 2000));
  const running = await runningNow();
  // The CPU around the browser while it scrolls: the server's (with its git helper) and the
  // whole machine's (the lanes, the browser and whatever else runs there), in % of one core.
  const t0 = performance.now();
  const [server0, machine0] = [serverCpuSeconds(s.pid), machineBusySeconds()];
  const fps = await scrollFps(browser, s.url, quick ? 4000 : 8000, trace("streaming"));
  const secs = (performance.now() - t0) / 1000;
  const [serverShare, machineShare] = [(100 * (serverCpuSeconds(s.pid) - server0)) / secs, (100 * (machineBusySeconds() - machine0)) / secs];
  add({ what: `scrolling fps, ${running} lanes streaming`, value: fps, unit: "fps", baseline: "same board, none streaming", baselineValue: quiet, target: "≥ 50 fps", ok: fps >= 50 });
  add({ what: "server CPU while scrolling, lanes streaming (with its git helper)", value: serverShare, unit: "% of a core", baseline: "—", baselineValue: null, target: "(reported)", ok: true });
  add({ what: "machine busy while scrolling, lanes streaming (every process)", value: machineShare, unit: "% of a core", baseline: "—", baselineValue: null, target: "(reported)", ok: true });
}

/** The full run: every row, on servers of 0, 1,000 and 5,000 lanes. */
async function everything(): Promise<void> {
  const browser = await launch();
  try {
    if (only === "scale1000") return await atScale(1000, browser, { ms: 0, nodes: 0 }, 0);
    const small = await startBenchServer(0, PORT);
    const board = await signIn(browser, small.url, small.token);
    let empty = { ms: 0, nodes: 0 };
    let idleRss = 0;
    try {
      await small.settled();
      empty = await firstRender(board, small.url);
      idleRss = await small.rss();
      await creation(small); // also the 40 idle lanes the streaming board holds beside its 100
      await streaming(small, board);
    } finally {
      await board.close();
      await small.stop();
    }
    if (only === null) {
      await atScale(1000, browser, empty, idleRss);
      await atScale(5000, browser, empty, idleRss);
    }
  } finally {
    await browser.close();
  }
}

/** `--only=create`: the creation row alone, on the same kind of server, settled as the full run has it. */
async function creationOnly(): Promise<void> {
  const small = await startBenchServer(0, PORT);
  try {
    await small.settled();
    await creation(small);
  } finally {
    await small.stop();
  }
}

async function main() {
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(" ");
  console.error(`bench:board (load average ${load()})`);
  if (only === "create") await creationOnly();
  else await everything();
  const table = [
    "| measure | value | baseline (same run) | ratio | target | met |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.what} | ${r.value.toFixed(1)} ${r.unit} | ${r.baseline}${r.baselineValue === null ? "" : `: ${r.baselineValue.toFixed(1)} ${r.unit}`} | ${r.baselineValue ? `${(r.value / r.baselineValue).toFixed(2)}×` : "—"} | ${r.target} | ${r.ok ? "yes" : "NO"} |`),
  ].join("\n");
  console.log(`\nLoad average at the end: ${load()}\n\n${table}`);
  await writeFile(path.join(import.meta.dirname, "results", only ? `board-${only}-latest.json` : "board-latest.json"), JSON.stringify({ at: new Date().toISOString(), loadAverage: load(), quick, only, rows }, null, 2));
}

await main();
