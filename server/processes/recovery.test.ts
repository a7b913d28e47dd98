/**
 * Restarting the runtime in the middle: supervisor A shuts down without killing (as the server
 * does on a restart), a fresh supervisor B with a fresh database connection opens the same data
 * directory and recovers.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { execa } from "execa";
import os from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, sh, type Harness } from "./supervisor.testing";
import { readProcStat, signalGroup } from "./procfs";
import { ScopeWatcher, groupScope } from "./process-scope";
import { writeToFifo } from "./stdin";
import { readExitFile } from "./wrapper";

let h: Harness;
const cwd = os.tmpdir();
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

/** Resolves when no process of the group is left. */
function groupGone(pgid: number): Promise<void> {
  const w = new ScopeWatcher();
  return w.whenGone(groupScope(pgid)).finally(() => w.stop());
}

/** Lines in a process's stdout.log so far (what the command wrote, published or not). */
const logLines = (id: string) => readFileSync(`${h.dataDir}/processes/${id}/stdout.log`, "utf8").split("\n").length - 1;

const numbers = (texts: string[]) => texts.map((t) => Number(/^n (\d+)$/.exec(t)?.[1] ?? NaN));

/** A `sleep 300` worker started by one server, whose group is SIGKILLed after that server stopped. */
async function sleeperKilledWhileDown() {
  const a = await h.boot();
  const view = await a.sup.start({ laneId: null, role: "worker", argv: ["sleep", "300"], cwd });
  await h.stop(a);
  signalGroup(view.pgid!, "SIGKILL");
  await groupGone(view.pgid!);
  return view;
}

describe("recover after a restart", () => {
  it("reattaches to a running process: every line exactly once across A and B, and the right exit code", async () => {
    const a = await h.boot();
    const N = 400;
    // Three runs of lines, each but the first released by the test through stdin: one while A
    // follows, one while no supervisor runs, one while B follows. The process waits between runs,
    // so it is still running when B comes up, however slow the machine.
    const view = await a.sup.start({ laneId: null, role: "worker", argv: sh(`i=0; for stop in 150 300 ${N}; do while [ $i -lt $stop ]; do i=$((i+1)); echo "n $i"; done; [ $i -lt ${N} ] && read go; done; exit 5`), cwd });
    await a.until(() => a.texts(view.id).length === 150, "the first 150 lines on A");
    await h.stop(a);
    const seenByA = numbers(a.texts(view.id));

    await writeToFifo(`${h.dataDir}/processes/${view.id}/stdin.fifo`, "go\n", view.id);
    await expect.poll(() => logLines(view.id), { timeout: 30_000 }).toBe(300); // written while no supervisor ran
    const b = await h.boot();
    const rec = await b.sup.recover();
    expect(rec).toEqual({ reattached: [view.id], exited: [], lost: [], neverRan: [] });
    await b.until(() => b.texts(view.id).length === 150, "lines 151-300 on B");
    await b.sup.writeStdin(view.id, "go\n");
    const exit = await b.exitOf(view.id);
    expect(exit).toMatchObject({ status: "exited", exitCode: 5, signal: null });
    const all = [...seenByA, ...numbers(b.texts(view.id))];
    expect(all).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    // offsets continue across the restart without overlap
    const offsets = [...a.lines, ...b.lines].filter((l) => l.processId === view.id).map((l) => l.offset);
    expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
    expect(new Set(offsets).size).toBe(N);
    await b.events.flush();
    expect(b.laneEvents.map((e) => e.type)).toEqual(["process.reattached", "process.exited"]);
  });

  it("records the real exit code and the output of a process that ended while no server ran", async () => {
    const a = await h.boot();
    const view = await a.sup.start({ laneId: null, role: "check", argv: sh("echo begin; read x; echo after-down; printf tail; exit 42"), cwd });
    await a.until(() => a.texts(view.id).includes("begin"), "begin");
    await h.stop(a);
    // Let the process finish while no supervisor runs: release it through its stdin FIFO.
    await writeToFifo(`${h.dataDir}/processes/${view.id}/stdin.fifo`, "go\n", view.id);
    await groupGone(view.pgid!);

    const b = await h.boot();
    expect(await b.sup.recover()).toEqual({ reattached: [], exited: [view.id], lost: [], neverRan: [] });
    expect(b.exits).toEqual([{ processId: view.id, laneId: null, role: "check", status: "exited", exitCode: 42, signal: null }]);
    expect(b.texts(view.id)).toEqual(["after-down", "tail"]);
    expect(a.texts(view.id)).toEqual(["begin"]);
    expect(await b.sup.get(view.id)).toMatchObject({ status: "exited", exitCode: 42 });
  });

  it("does not reattach a pid whose start time differs (pid reuse), marks it lost and leaves that process alone", async () => {
    const view = await sleeperKilledWhileDown();
    // Another program now holds the recorded pid: a process the supervisor never started.
    const foreign = execa("sleep", ["300"], { detached: true, reject: false });
    const b = await h.boot();
    await b.db.process.update({ where: { id: view.id }, data: { pid: foreign.pid!, pgid: foreign.pid!, osStartTime: "1" } });
    expect(await b.sup.recover()).toEqual({ reattached: [], exited: [], lost: [view.id], neverRan: [] });
    expect(b.exits[0]).toMatchObject({ processId: view.id, status: "lost" });
    await b.events.flush();
    const lost = b.laneEvents.find((e) => e.type === "process.lost");
    expect(lost?.payload).toMatchObject({ processId: view.id, reason: expect.stringContaining("another process") });
    // Not ours, so not killed by us: it still runs.
    expect(readProcStat(foreign.pid!)?.state).not.toBe("Z");
    foreign.kill("SIGKILL");
    await foreign;
  });

  it("marks a process lost when it vanished without an exit status (group SIGKILLed while down)", async () => {
    const view = await sleeperKilledWhileDown();
    const b = await h.boot();
    expect(await b.sup.recover()).toEqual({ reattached: [], exited: [], lost: [view.id], neverRan: [] });
    expect((await b.sup.get(view.id)).status).toBe("lost");
    expect(readExitFile(`${h.dataDir}/processes/${view.id}/exit`)).toBeNull(); // only the placeholder reserved at start
  });

  it("records the real exit of a reattached process that ended because the disk filled (not lost)", async (ctx) => {
    // A 1 MiB tmpfs under the process logs, which the command fills. Needs the privilege to
    // mount; skipped (visibly) without it.
    const logsDir = `${h.dataDir}/processes`;
    mkdirSync(logsDir, { recursive: true });
    if ((await execa("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", logsDir], { reject: false })).exitCode !== 0) ctx.skip();
    try {
      const a = await h.boot();
      // `yes` fails once its log cannot grow; the command then exits 75 (EX_TEMPFAIL), as a worker does on ENOSPC.
      const view = await a.sup.start({ laneId: null, role: "worker", argv: sh("echo ready; read go; yes 0123456789abcdef; exit 75"), cwd });
      await a.until(() => a.texts(view.id).includes("ready"), "ready");
      await h.stop(a);
      const b = await h.boot();
      expect((await b.sup.recover()).reattached).toEqual([view.id]); // b is not its parent: only the exit file can tell it
      await b.sup.writeStdin(view.id, "go\n");
      expect(await b.exitOf(view.id, 60_000)).toMatchObject({ status: "exited", exitCode: 75, signal: null });
      expect(await b.sup.get(view.id)).toMatchObject({ status: "exited", exitCode: 75 });
      await h.stop(b);
    } finally {
      await execa("umount", ["-l", logsDir], { reject: false });
    }
  });

  it("reports a process whose kill was requested before the restart as killed", async () => {
    const a = await h.boot();
    const view = await a.sup.start({ laneId: null, role: "worker", argv: ["sleep", "300"], cwd });
    await h.stop(a);
    const b = await h.boot();
    // As if the old server had recorded the kill request and sent SIGTERM, then died.
    await b.db.process.update({ where: { id: view.id }, data: { killRequestedAt: new Date() } });
    signalGroup(view.pgid!, "SIGTERM");
    await groupGone(view.pgid!);
    expect((await b.sup.recover()).exited).toEqual([view.id]);
    expect(b.exits[0]).toMatchObject({ status: "killed", exitCode: null, signal: "SIGTERM" });
  });

  it("kills a reattached process (not our child) by its group", async () => {
    const a = await h.boot();
    const view = await a.sup.start({ laneId: null, role: "worker", argv: sh("sleep 300 & echo $!; wait"), cwd });
    await a.until(() => a.texts(view.id).length === 1, "grandchild pid");
    const grandchild = Number(a.texts(view.id)[0]);
    await h.stop(a);
    const b = await h.boot();
    await b.sup.recover();
    const exit = await b.sup.kill(view.id, { graceMs: 2000 });
    expect(exit).toMatchObject({ status: "killed", signal: "SIGTERM" });
    const st = readProcStat(grandchild);
    expect(st === null || st.state === "Z").toBe(true);
  });

  it("adopts a process whose pid was never recorded (server died during start) via its pid file", async () => {
    const a = await h.boot();
    const view = await a.sup.start({ laneId: null, role: "worker", argv: ["sleep", "300"], cwd });
    await h.stop(a);
    const b = await h.boot();
    await b.db.process.update({ where: { id: view.id }, data: { pid: null, pgid: null, osStartTime: null, status: "starting" } });
    expect((await b.sup.recover()).reattached).toEqual([view.id]);
    expect(await b.sup.get(view.id)).toMatchObject({ status: "running", pid: view.pid });
    await b.sup.kill(view.id);
  });

  it("never starts a duplicate: recover twice, or with nothing recorded, starts nothing", async () => {
    const a = await h.boot();
    const view = await a.sup.start({ laneId: null, role: "worker", argv: ["sleep", "300"], cwd });
    await h.stop(a);
    const b = await h.boot();
    expect((await b.sup.recover()).reattached).toEqual([view.id]);
    expect(await b.sup.recover()).toEqual({ reattached: [], exited: [], lost: [], neverRan: [] });
    expect(await b.db.process.count()).toBe(1);
    await b.sup.kill(view.id);
  });
});

describe("recover after the supervisor's process was SIGKILLed", () => {
  it("reattaches, and every line is published exactly once across the crash", async () => {
    const N = 300;
    // Half the lines, then it waits for the test: it is still running when B comes up, however slow the machine.
    const argv = sh(`i=0; while [ $i -lt ${N} ]; do i=$((i+1)); echo "n $i"; [ $i -eq ${N / 2} ] && read go; done; exit 6`);
    const child = execa("node", ["--import", "tsx", "server/processes/testdata/supervisor-child.ts", h.dataDir, JSON.stringify(argv)], { cwd: process.cwd(), reject: false, buffer: false, stdin: "ignore" });
    const seenByA: number[] = [];
    let id = "";
    let out = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        let nl: number;
        while ((nl = out.indexOf("\n")) >= 0) {
          const msg = JSON.parse(out.slice(0, nl)) as { started?: string; lines?: string[] };
          out = out.slice(nl + 1);
          if (msg.started) id = msg.started;
          if (msg.lines) seenByA.push(...numbers(msg.lines));
          // Output is published as soon as the process runs, so lines may come before `started`.
          if (id && seenByA.length >= 60) resolve();
        }
      });
      void child.then((r) => reject(new Error(`supervisor child ended early: ${r.stderr ?? r.exitCode}`)));
    });
    child.kill("SIGKILL");
    await child;
    expect(seenByA.length).toBeLessThan(N);
    const b = await h.boot();
    expect((await b.sup.recover()).reattached).toEqual([id]);
    await b.until(() => seenByA.length + b.texts(id).length >= N / 2, "the first half on A and B together");
    await b.sup.writeStdin(id, "go\n");
    expect(await b.exitOf(id)).toMatchObject({ status: "exited", exitCode: 6 });
    expect([...seenByA, ...numbers(b.texts(id))]).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  });
});
