/**
 * Harder chaos, against a real server process on a small tmpfs data dir: 100 shell lanes print
 * numbered lines at 1,000 lines/s each while the server is SIGKILLed five times — mid-run, inside
 * a kill's grace period, twice inside a merge (once after the base branch moved but before the
 * merge was recorded, once after the merge's intent was written but before the base moved), and
 * right after lanes were created — and then the data disk fills up. Afterwards every lane was
 * reattached or had its exit recorded, every log holds each line its command wrote exactly once,
 * in order, each merge is either whole (base at the merge commit, `lane.merged`) or absent (base
 * untouched, a warning saying so), and no lane was started twice (one `lane.started` each).
 *
 * Sizes come from the environment, so one spec serves both runs. Its defaults are the suite's
 * variant (`npm test`: the same five kills, disk phase and checks at 6 lanes × 100 lines/s,
 * printing until the disk fills, a 2 s grace period, merges of 1,000 files, a 128 MiB tmpfs; most
 * of its time is the six server starts); `npm run chaos` runs the full size (100 lanes × 1,000
 * lines/s for 60 s, 15 s grace, merges of 3,000 files, 512 MiB), figures in README.md. Mounting
 * the tmpfs needs root (CAP_SYS_ADMIN); without it the spec is skipped, saying so.
 * - LANEBOARD_CHAOS_LANES: printing lanes (and a tenth as many, at least 3, created right before a kill)
 * - LANEBOARD_CHAOS_RATE: lines per second per lane
 * - LANEBOARD_CHAOS_SECONDS: how long each prints before it idles (default: until the disk fills)
 * - LANEBOARD_CHAOS_GRACE_MS: the server's kill grace period
 * - LANEBOARD_CHAOS_MERGE_FILES: files each merged lane adds (their checkout is what a kill lands in)
 * - LANEBOARD_CHAOS_TMPFS: the data disk's size (mount(8) syntax)
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { LaneView, ProcessView } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";
import { expect, fetchOnce, ownApi, pidsInGroup, sigkill, startServer, test, tmpfsDir, type OwnServer } from "./support";
import { checkPrinterLines, freeBytes, gitCallsOf, groupsMentioning, linesWritten, printerScript, refSha, stdoutOfDownload, until } from "./chaos-support";

const PORT = Number(process.env.LANEBOARD_E2E_PORT ?? 3917) + 5; // +1 model server, +2..+4 other specs' own servers
const env = (name: string, fallback: number) => Number(process.env[`LANEBOARD_CHAOS_${name}`] ?? fallback);
const LANES = env("LANES", 6);
const RATE = env("RATE", 100);
/** Lines each printer prints before it idles. */
const MAX = env("SECONDS", 3600) * RATE;
const GRACE_MS = env("GRACE_MS", 2000);
const MERGE_FILES = env("MERGE_FILES", 1000);
const TMPFS_SIZE = process.env.LANEBOARD_CHAOS_TMPFS ?? "128m";
/** Lanes created right before a kill. */
const LATE = Math.max(3, Math.ceil(LANES / 10));
/** Room left when the disk is filled: about two seconds of everyone's printing, at most 512 KiB. */
const SLACK = Math.min(512 * 1024, LANES * RATE * 16);

let server: OwnServer | null = null;
const api = ownApi(() => ({ url: server!.url, token: server!.token }));

test(`${LANES} lanes at ${RATE} lines/s survive 5 SIGKILLs (in a kill's grace period, in two merges, after creates) and a full disk: nothing lost, doubled, half-merged or started twice`, async () => {
  test.setTimeout(20 * 60_000);
  const { dir: dataDir, remove } = tmpfsDir("laneboard-chaos-", TMPFS_SIZE);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "laneboard-chaos-work-"));
  const repo = path.join(work, "repo");
  const stopFile = path.join(work, "stop");
  const goFile = path.join(work, "go");
  const started = Date.now();
  const figures: Record<string, unknown> = {};
  // How long each phase took (ms), to see where a run's time goes.
  const phases: Record<string, number> = {};
  let lapAt = started;
  const lap = (name: string) => {
    phases[name] = Date.now() - lapAt;
    lapAt = Date.now();
  };
  let lanes: { id: string; pgid: number; processId: string }[] = [];
  const restart = async () => {
    server = await startServer(PORT, dataDir, ["--worker-cap", "500", "--kill-grace-ms", String(GRACE_MS)]);
  };
  const kill = async () => sigkill(server!.child);
  const events = async (after = 0): Promise<LaneEvent[]> => {
    const all: LaneEvent[] = [];
    for (let cursor = after; ;) {
      const page = await api<{ events: LaneEvent[]; cursor: number }>("GET", `/api/v1/events?after=${cursor}&limit=5000`);
      all.push(...page.events);
      if (page.events.length < 5000) return all;
      cursor = page.cursor;
    }
  };
  const lastEventId = async () => (await events()).at(-1)?.id ?? 0;
  const laneView = (id: string) => api<LaneView>("GET", `/api/v1/lanes/${id}`);
  const create = (branch: string, script: string) =>
    api<LaneView>("POST", "/api/v1/lanes", { objective: branch, repo: repoId, branch, worker: { engine: "shell", command: ["sh", "-c", script] } }, `create-${branch}`);
  const stdoutFile = (processId: string) => path.join(dataDir, "processes", processId, "stdout.log");
  let repoId = "";
  try {
    execFileSync("git", ["init", "-q", "--initial-branch=main", repo]);
    execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "--allow-empty", "-m", "init"]);
    await restart();
    repoId = (await api<{ id: string }>("POST", "/api/v1/repos", { path: repo })).id;

    // Two lanes whose work is merged later: many files each, so checking the merge out takes a while.
    const commit = (dir: string) => `mkdir ${dir} && i=0; while [ $i -lt ${MERGE_FILES} ]; do echo $i > ${dir}/f$i.txt; i=$((i+1)); done; git add -A && git -c user.name=t -c user.email=t@t.invalid commit -qm ${dir}`;
    const [m1, m2] = await Promise.all([create("lane/merge-one", commit("one")), create("lane/merge-two", commit("two"))]);
    await expect.poll(async () => [(await laneView(m1!.id)).state, (await laneView(m2!.id)).state], { timeout: 120_000 }).toEqual(["finished", "finished"]);
    lap("mergeLanes");

    // The printers; the first answers SIGTERM and prints on (the lane killed in its grace period).
    const t0 = Date.now();
    const created: LaneView[] = [];
    for (let i = 0; i < LANES; i += 4) {
      const batch = Array.from({ length: Math.min(4, LANES - i) }, (_, k) => i + k);
      created.push(...(await Promise.all(batch.map((n) => create(`lane/printer-${n}`, printerScript({ rate: RATE, max: MAX, goFile, stopFile, trapTerm: n === 0 }))))));
    }
    await expect.poll(async () => (await Promise.all(created.map((l) => laneView(l.id)))).filter((l) => l.state === "running").length, { timeout: 300_000 }).toBe(LANES);
    lanes = await Promise.all(created.map(async (l) => {
      const processId = (await laneView(l.id)).currentProcessId!;
      return { id: l.id, processId, pgid: (await api<ProcessView>("GET", `/api/v1/processes/${processId}`)).pgid! };
    }));
    figures.createMs = Date.now() - t0;
    lap("printers");
    const grace = lanes[0]!;
    fs.writeFileSync(goFile, ""); // all print from now on, together

    // 1. Mid-run: every printer has printed a couple of batches.
    await expect.poll(() => Math.min(...lanes.map((l) => linesWritten(stdoutFile(l.processId)))), { timeout: 120_000 }).toBeGreaterThanOrEqual(2 * RATE);
    const rateFrom = { at: Date.now(), lines: lanes.reduce((n, l) => n + linesWritten(stdoutFile(l.processId)), 0) };
    let cursor = await lastEventId();
    await kill();
    await restart();
    const reattached = (await events(cursor)).filter((e) => e.type === "process.reattached").map((e) => (e.payload as { processId: string }).processId);
    expect(new Set(reattached)).toEqual(new Set(lanes.map((l) => l.processId)));
    const rateTo = { at: Date.now(), lines: lanes.reduce((n, l) => n + linesWritten(stdoutFile(l.processId)), 0) };
    figures.linesPerSecondAllLanes = Math.round(((rateTo.lines - rateFrom.lines) * 1000) / (rateTo.at - rateFrom.at));
    lap("kill1MidRun");

    // 2. Inside a kill's grace period: the printer has answered SIGTERM and prints on.
    const killing = api("POST", `/api/v1/lanes/${grace.id}/kill`, {}).catch((err: Error) => err);
    await until(() => fs.readFileSync(stdoutFile(grace.processId), "utf8").includes("term-"), "the SIGTERM answered", { everyMs: 20 });
    const termAt = Date.now();
    await kill();
    expect(await killing).toBeInstanceOf(Error); // the kill's answer died with the server
    expect(pidsInGroup(grace.pgid).length).toBeGreaterThan(0); // still printing, in its grace period
    await restart();
    // The kill is resumed by the new server: SIGKILL once the grace period (from the SIGTERM) is over.
    await expect.poll(async () => (await api<ProcessView>("GET", `/api/v1/processes/${grace.processId}`)).status, { timeout: GRACE_MS + 60_000 }).toBe("killed");
    figures.graceKillAfterMs = Date.now() - termAt;
    expect(await api<ProcessView>("GET", `/api/v1/processes/${grace.processId}`)).toMatchObject({ signal: "SIGKILL" });
    expect(pidsInGroup(grace.pgid)).toEqual([]);
    lap("kill2Grace");

    // 3. Inside a merge, after the base moved, before `lane.merged` was recorded: the server is
    // frozen (SIGSTOP) the moment its `git merge --ff-only` (which moves main and its checkout) is
    // seen, that git finishes moving main, and the server is SIGKILLed without running again.
    const before1 = refSha(repo, "refs/heads/main")!;
    const serverPid = server!.child.pid!;
    const merging1 = api("POST", `/api/v1/lanes/${m1!.id}/merge`, { strategy: "merge", force: true }).catch((err: Error) => err);
    await until(() => gitCallsOf(serverPid).some((c) => c.argv.includes("--ff-only")), "the merge's git merge --ff-only");
    process.kill(serverPid, "SIGSTOP");
    await until(() => refSha(repo, "refs/heads/main") !== before1, "main to move", { everyMs: 10 });
    await kill();
    expect(await merging1).toBeInstanceOf(Error);
    const merged1 = refSha(repo, "refs/heads/main")!;
    expect(refSha(repo, `${merged1}^1`)).toBe(before1);
    expect(refSha(repo, `${merged1}^2`)).toBe(refSha(repo, "refs/heads/lane/merge-one"));
    await restart();
    const m1Events = (await api<{ events: LaneEvent[] }>("GET", `/api/v1/events?after=0&laneId=${m1!.id}&limit=5000`)).events;
    expect(m1Events.filter((e) => e.type === "lane.merged").map((e) => (e.payload as { sha: string }).sha)).toEqual([merged1]);
    lap("kill3Merge");

    // 4. Inside a merge, after its intent was written, before the base moved: frozen the moment
    // the intent file appears; whatever git call is under way finishes; then SIGKILL.
    const intentDir = path.join(dataDir, "lanes", m2!.id);
    fs.mkdirSync(intentDir, { recursive: true });
    const pid4 = server!.child.pid!;
    const watcher = fs.watch(intentDir, () => {
      if (fs.existsSync(path.join(intentDir, "merge-intent.json"))) process.kill(pid4, "SIGSTOP");
    });
    const merging2 = api("POST", `/api/v1/lanes/${m2!.id}/merge`, { strategy: "merge", force: true }).catch((err: Error) => err);
    await until(() => fs.existsSync(path.join(intentDir, "merge-intent.json")), "the merge intent", { everyMs: 5 });
    watcher.close();
    await until(() => gitCallsOf(pid4).length === 0, "the server's git calls to end", { everyMs: 5 });
    expect(refSha(repo, "refs/heads/main")).toBe(merged1); // untouched
    await kill();
    expect(await merging2).toBeInstanceOf(Error);
    await restart();
    const m2Events = (await api<{ events: LaneEvent[] }>("GET", `/api/v1/events?after=0&laneId=${m2!.id}&limit=5000`)).events;
    expect(m2Events.filter((e) => e.type === "lane.merged")).toEqual([]);
    expect(m2Events.some((e) => e.type === "warning" && /untouched and the lane is not merged/.test((e.payload as { message: string }).message))).toBe(true);
    expect(refSha(repo, "refs/heads/main")).toBe(merged1);
    // Nothing half-done is in the way: the merge goes through now.
    const done2 = await api<{ sha: string }>("POST", `/api/v1/lanes/${m2!.id}/merge`, { strategy: "merge", force: true });
    expect(refSha(repo, "refs/heads/main")).toBe(done2.sha);
    expect(execFileSync("git", ["-C", repo, "status", "--porcelain"], { encoding: "utf8" })).toBe("");
    lap("kill4MergeIntent");

    // 5. Right after a few lanes were created, while they are being started.
    const late = await Promise.all(Array.from({ length: LATE }, (_, n) => create(`lane/late-${n}`, printerScript({ rate: RATE, max: 3 * RATE, goFile, stopFile }))));
    const startedBefore = new Set((await events()).filter((e) => e.type === "lane.started").map((e) => e.laneId));
    figures.lateNotStartedAtKill = late.filter((l) => !startedBefore.has(l.id)).length;
    await kill();
    await restart();
    await expect.poll(async () => (await Promise.all(late.map((l) => laneView(l.id)))).map((l) => l.state), { timeout: 120_000 }).toEqual(late.map(() => "running")).catch(async (err: Error) => {
      // Say why a lane ended instead (its lane.failed / process.lost payloads): the data dir is gone after the run.
      const why = await Promise.all(late.map(async (l) => (await events()).filter((e) => e.laneId === l.id && (e.type === "lane.failed" || e.type === "process.lost")).map((e) => e.payload)));
      throw new Error(`${err.message}\nwhy the late lanes ended: ${JSON.stringify(why)}`);
    });
    lap("kill5AfterCreates");

    // The data disk fills up: new work is refused with 503 disk_full, the printers that still
    // print fail to write and end (75), those that idle are fine; their exits are recorded once
    // space returns, without a restart.
    cursor = await lastEventId();
    const printing = lanes.slice(1).filter((l) => linesWritten(stdoutFile(l.processId)) < MAX);
    figures.printingWhenDiskFilled = printing.length;
    const ballast = path.join(dataDir, "ballast");
    execFileSync("fallocate", ["-l", String(Math.max(0, freeBytes(dataDir) - SLACK)), ballast]);
    const refused = await fetchOnce(`${server!.url}/api/v1/lanes`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${server!.token}`, "idempotency-key": "refused" },
      body: JSON.stringify({ objective: "refused", repo: repoId, branch: "lane/refused", worker: { engine: "shell", command: ["true"] } }),
    });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("disk_full");
    await expect.poll(() => printing.filter((l) => pidsInGroup(l.pgid).length > 0).length, { timeout: 120_000 }).toBe(0);
    fs.rmSync(ballast);
    await expect.poll(async () => (await Promise.all(printing.map((l) => laneView(l.id)))).filter((l) => l.state === "running").length, { timeout: 120_000 }).toBe(0);
    // Room again is seen within the disk watch's period once what was kept has landed.
    const diskEvents = async () => (await events(cursor)).filter((e) => e.type === "disk.full" || e.type === "disk.space_freed").map((e) => e.type);
    await expect.poll(diskEvents, { timeout: 30_000 }).toContain("disk.space_freed");
    expect((await diskEvents())[0]).toBe("disk.full");
    lap("diskFull");

    // The end: the idle printers finish.
    fs.writeFileSync(stopFile, "");
    const all = [...lanes.map((l) => l.id), ...late.map((l) => l.id)];
    await expect.poll(async () => (await Promise.all(all.map(laneView))).filter((l) => !["finished", "failed", "killed"].includes(l.state)).length, { timeout: 180_000 }).toBe(0);
    lap("end");

    // Every log, read back through the server, holds each line exactly once, in order.
    const log = await events();
    const counts: number[] = [];
    for (const id of all) {
      const view = await laneView(id);
      const res = await fetch(`${server!.url}/api/v1/lanes/${id}/logs/download`, { headers: { authorization: `Bearer ${server!.token}` } });
      const printed = checkPrinterLines(stdoutOfDownload(await res.text()), `lane ${id}`);
      counts.push(printed.count);
      const own = log.filter((e) => e.laneId === id);
      expect(own.filter((e) => e.type === "lane.started"), `lane ${id} started once`).toHaveLength(1);
      expect(own.filter((e) => e.type === "process.exited" || e.type === "process.lost").map((e) => e.type), `lane ${id}: one recorded exit`).toEqual(["process.exited"]);
      if (id === grace.id) {
        expect(view.state).toBe("killed");
        expect(printed.terms).toBeGreaterThanOrEqual(1);
      } else if (printed.ended) {
        expect([view.state, view.lastExitCode, printed.partial]).toEqual(["finished", 0, null]);
      } else {
        // Ended by the full disk: the write that failed is the last line, whole or cut short, never skipped.
        expect([view.state, view.lastExitCode]).toEqual(["failed", 75]);
      }
    }
    for (const l of lanes) expect(pidsInGroup(l.pgid)).toEqual([]);
    figures.linesPerLaneMedian = counts.sort((a, b) => a - b)[Math.floor(counts.length / 2)];
    figures.totalLines = counts.reduce((a, b) => a + b, 0);
    lap("logChecks");
    figures.phasesMs = phases;
    figures.runMs = Date.now() - started;
    figures.loadAverage = os.loadavg().map((x) => x.toFixed(2)).join(" ");
    console.log(`[chaos] ${JSON.stringify(figures)}`);
  } finally {
    if (server) await kill();
    // Every lane's command names the work dir (its go and stop files): the late lanes too, whose groups are not listed.
    for (const g of new Set([...lanes.map((l) => l.pgid), ...groupsMentioning(work)])) if (pidsInGroup(g).length) process.kill(-g, "SIGKILL");
    remove();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
