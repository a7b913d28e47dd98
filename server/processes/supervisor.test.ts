import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { BusEvents } from "../events/event-bus";
import { appErrorCode, harnessPerTest, sh } from "./supervisor.testing";
import { readProcStat } from "./procfs";
import { EXIT_PLACEHOLDER } from "./wrapper";
import { lockDatabase } from "../store/db.testing";
import { onPostgres } from "../testing/test-database";

const sv = harnessPerTest();
const cwd = os.tmpdir();

/** True when the pid no longer runs (gone, or a zombie nobody has reaped yet). */
function isGone(pid: number): boolean {
  const st = readProcStat(pid);
  return st === null || st.state === "Z";
}

describe("ProcessSupervisor: start, output, exit", () => {
  it("runs a command detached in its own group, publishes stdout/stderr lines and records the exit code", async () => {
    const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("echo out; echo err >&2; printf 'no newline'; exit 3"), cwd });
    expect(view.status).toBe("running");
    expect(view.pid).toBeGreaterThan(0);
    expect(view.pgid).toBe(view.pid);
    expect(view.command).toEqual(sh("echo out; echo err >&2; printf 'no newline'; exit 3"));
    const exit = await sv.a.exitOf(view.id);
    expect(exit).toEqual({ processId: view.id, laneId: null, role: "worker", status: "exited", exitCode: 3, signal: null });
    expect(sv.a.texts(view.id, "stdout")).toEqual(["out", "no newline"]);
    expect(sv.a.texts(view.id, "stderr")).toEqual(["err"]);
    // Lines were published before the exit.
    const after = await sv.a.sup.get(view.id);
    expect(after).toMatchObject({ status: "exited", exitCode: 3, signal: null });
    expect(after.endedAt).not.toBeNull();
    await sv.a.events.flush();
    expect(sv.a.laneEvents.map((e) => e.type)).toEqual(["process.started", "process.exited"]);
    const row = await sv.a.db.process.findUniqueOrThrow({ where: { id: view.id } });
    expect(row.osStartTime).toMatch(/^\d+$/);
    expect(row.stdoutOffset).toBe(Buffer.byteLength("out\nno newline"));
  });

  it("copies the log offsets of live processes to their rows in one statement, on shutdown too", async () => {
    const ids: string[] = [];
    for (const word of ["alpha", "be"]) {
      const v = await sv.a.sup.start({ laneId: null, role: "background", argv: sh(`echo ${word}; read go`), cwd });
      ids.push(v.id);
    }
    await sv.a.until(() => ids.every((id) => sv.a.texts(id).length === 1), "both first lines");
    await sv.h.stop(sv.a); // the processes keep running; quitting saves their offsets
    const b = await sv.h.boot();
    // By id, not createdAt: two starts can share a millisecond, and then the order is the database's.
    const rows = await b.db.process.findMany({ where: { id: { in: ids } } });
    const byId = new Map(rows.map((r) => [r.id, [r.status, r.stdoutOffset, r.stderrOffset]]));
    expect(ids.map((id) => byId.get(id))).toEqual([["running", 6, 0], ["running", 3, 0]]);
    await b.sup.recover();
    for (const id of ids) await b.sup.kill(id);
  });

  it("reports a command killed by a signal as that signal", async () => {
    const view = await sv.a.sup.start({ laneId: null, role: "check", argv: sh("kill -USR1 $$"), cwd });
    expect(await sv.a.exitOf(view.id)).toMatchObject({ status: "exited", exitCode: null, signal: "SIGUSR1" });
  });

  it("passes env overrides to the process but stores and shows secrets redacted", async () => {
    const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh('echo "$API_KEY/$PLAIN"'), cwd, env: { API_KEY: "s3cret-value", PLAIN: "visible" } });
    await sv.a.exitOf(view.id);
    expect(sv.a.texts(view.id)).toEqual(["s3cret-value/visible"]);
    expect(view.env).toEqual({ API_KEY: "[redacted]", PLAIN: "visible" });
    const row = await sv.a.db.process.findUniqueOrThrow({ where: { id: view.id } });
    expect(row.env).not.toContain("s3cret");
  });

  it("delivers lines quickly (first-line latency, reported, not asserted)", async () => {
    const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: ["node", "-e", "let n=0;const t=setInterval(()=>{console.log(Date.now());if(++n===100)clearInterval(t)},10)"], cwd });
    await sv.a.exitOf(view.id);
    const lines = sv.a.lines.filter((l) => l.processId === view.id);
    expect(lines).toHaveLength(100);
    const lat = lines.map((l) => l.ts - Number(l.text)).sort((x, y) => x - y);
    console.log(`first-line latency over 100 lines: p50 ${lat[50]} ms, p99 ${lat[98]} ms, max ${lat[99]} ms`);
  });
});

describe("ProcessSupervisor: kill", () => {
  it("kills the whole group, grandchildren included", async () => {
    // wrapper → sh → sleep (grandchild); the sh prints the grandchild's pid.
    const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("sleep 300 & echo $!; wait"), cwd });
    await sv.a.until(() => sv.a.texts(view.id).length > 0, "grandchild pid");
    const grandchild = Number(sv.a.texts(view.id)[0]);
    expect(readProcStat(grandchild)?.pgid).toBe(view.pgid);
    const exit = await sv.a.sup.kill(view.id, { graceMs: 5000 });
    expect(exit.status).toBe("killed");
    expect(exit.signal).toBe("SIGTERM");
    expect(isGone(grandchild)).toBe(true);
    expect(isGone(view.pid!)).toBe(true);
    expect((await sv.a.sup.get(view.id)).status).toBe("killed");
    expect(await appErrorCode(sv.a.sup.kill(view.id))).toBe("not_running");
  });

  it("sends SIGKILL after the grace period to a group that ignores SIGTERM", async () => {
    const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("trap '' TERM; echo ready; while :; do sleep 0.05; done"), cwd });
    await sv.a.until(() => sv.a.texts(view.id).includes("ready"), "ready");
    const t0 = Date.now();
    const exit = await sv.a.sup.kill(view.id, { graceMs: 300 });
    const took = Date.now() - t0;
    expect(exit).toMatchObject({ status: "killed", signal: "SIGKILL" });
    expect(took).toBeGreaterThanOrEqual(300);
    console.log(`kill with 300 ms grace of a TERM-ignoring group took ${took} ms`);
    expect(isGone(view.pid!)).toBe(true);
  });

  it("a kill right after start is not lost in the wrapper's fork/exec window (SIGTERM, no SIGKILL)", async () => {
    for (let i = 0; i < 15; i++) {
      const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: ["sleep", "300"], cwd });
      expect(await sv.a.sup.kill(view.id, { graceMs: 20_000 })).toMatchObject({ status: "killed", signal: "SIGTERM" });
    }
  });

  it("shutdown({kill:false}) leaves processes running; shutdown({kill:true}) kills them", async () => {
    const view = await sv.a.sup.start({ laneId: null, role: "background", argv: ["sleep", "300"], cwd });
    await sv.h.stop(sv.a);
    expect(isGone(view.pid!)).toBe(false);
    const b = await sv.h.boot();
    expect((await b.sup.recover()).reattached).toEqual([view.id]);
    await b.sup.shutdown({ kill: true });
    expect(isGone(view.pid!)).toBe(true);
    expect((await b.sup.get(view.id)).status).toBe("killed");
  });

  it("forget stops following a process without killing it", async () => {
    const view = await sv.a.sup.start({ laneId: null, role: "background", argv: ["sleep", "300"], cwd });
    await sv.a.sup.forget(view.id);
    expect(isGone(view.pid!)).toBe(false);
    expect(await appErrorCode(sv.a.sup.kill(view.id))).toBe("not_running");
    expect(await appErrorCode(sv.a.sup.waitForExit(view.id))).toBe("conflict");
    process.kill(-view.pgid!, "SIGKILL");
  });
});

describe("ProcessSupervisor: stdin", () => {
  it("writes to a running process's stdin (round trip through cat)", async () => {
    const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: ["cat"], cwd });
    await sv.a.sup.writeStdin(view.id, "hello\n");
    await sv.a.sup.writeStdin(view.id, "wörld\n");
    await sv.a.until(() => sv.a.texts(view.id).length === 2, "echoed lines");
    expect(sv.a.texts(view.id)).toEqual(["hello", "wörld"]);
    await sv.a.sup.kill(view.id);
  });

  it("rejects stdin to a finished process, and to one started without stdin", async () => {
    const done = await sv.a.sup.start({ laneId: null, role: "worker", argv: ["true"], cwd });
    await sv.a.exitOf(done.id);
    expect(await appErrorCode(sv.a.sup.writeStdin(done.id, "x"))).toBe("not_running");
    const noStdin = await sv.a.sup.start({ laneId: null, role: "worker", argv: ["sleep", "300"], cwd, stdin: "null" });
    expect(await appErrorCode(sv.a.sup.writeStdin(noStdin.id, "x"))).toBe("conflict");
  });
});

describe("ProcessSupervisor: partial last lines", () => {
  /** The next `process.partial` of `processId` on this instance's bus. */
  const nextPartial = (processId: () => string | undefined) =>
    new Promise<BusEvents["process.partial"]>((resolve) => {
      const off = sv.a.bus.on("process.partial", (p) => {
        if (p.processId !== processId()) return;
        off();
        resolve(p);
      });
    });

  it("announces a prompt that stays unchanged; its answer completes the line", async () => {
    const started: { id?: string } = {}; // set once started; partials are listened for before
    const shown = nextPartial(() => started.id);
    const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh('echo start; printf "Continue? "; read x; echo "got $x"'), cwd });
    started.id = view.id;
    const p = await shown;
    expect({ stream: p.stream, offset: p.offset, text: p.data.toString() }).toEqual({ stream: "stdout", offset: "start\n".length, text: "Continue? " });
    expect(sv.a.texts(view.id)).toEqual(["start"]); // not a line
    await sv.a.sup.writeStdin(view.id, "y\n");
    await sv.a.exitOf(view.id);
    expect(sv.a.texts(view.id)).toEqual(["start", "Continue? got y"]);
  });

  it("shows a line that keeps growing (a progress bar) while it grows, about once a second", async () => {
    const started: { id?: string } = {}; // set once started; partials are listened for before
    const shown = nextPartial(() => started.id);
    // 40 dots, one per 100 ms, then the newline: never unchanged for 250 ms until it is a line.
    const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("i=0; while [ $i -lt 40 ]; do printf .; sleep 0.1; i=$((i+1)); done; echo"), cwd });
    started.id = view.id;
    // Before the process ends, not after (then the line is published and nothing is partial).
    const first = await Promise.race([shown, sv.a.exitOf(view.id).then(() => null)]);
    expect(first, "a partial line shown before the process ended").not.toBeNull();
    const text = first!.data.toString();
    expect(text).toMatch(/^\.+$/);
    expect(text.length).toBeLessThan(40); // shown while still growing
    await sv.a.exitOf(view.id);
    expect(sv.a.texts(view.id)).toEqual([".".repeat(40)]);
  });
});

describe("ProcessSupervisor: bad input", () => {
  it("refuses a missing command, a bad cwd and a cwd outside confineTo without spawning", async () => {
    expect(await appErrorCode(sv.a.sup.start({ laneId: null, role: "worker", argv: ["no-such-command-xyz"], cwd }))).toBe("command_not_found");
    expect(await appErrorCode(sv.a.sup.start({ laneId: null, role: "worker", argv: ["./nope.sh"], cwd }))).toBe("command_not_found");
    expect(await appErrorCode(sv.a.sup.start({ laneId: null, role: "worker", argv: ["true"], cwd: "/no/such/dir" }))).toBe("invalid_input");
    expect(await appErrorCode(sv.a.sup.start({ laneId: null, role: "worker", argv: [], cwd }))).toBe("invalid_input");
    expect(await appErrorCode(sv.a.sup.start({ laneId: null, role: "worker", argv: ["true"], cwd: "/", confineTo: sv.h.dataDir }))).toBe("outside_worktree");
    // `..` that escapes is caught after resolving
    expect(await appErrorCode(sv.a.sup.start({ laneId: null, role: "worker", argv: ["true"], cwd: `${sv.h.dataDir}/..`, confineTo: sv.h.dataDir }))).toBe("outside_worktree");
    expect(await sv.a.db.process.count()).toBe(0);
    // inside is fine
    const ok = await sv.a.sup.start({ laneId: null, role: "worker", argv: ["true"], cwd: sv.h.dataDir, confineTo: sv.h.dataDir });
    expect((await sv.a.exitOf(ok.id)).exitCode).toBe(0);
    expect(await appErrorCode(sv.a.sup.get("nope"))).toBe("not_found");
  });

  it("a command that fails inside the process is an exit code, not an error", async () => {
    const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("no-such-command-xyz"), cwd });
    expect((await sv.a.exitOf(view.id)).exitCode).toBe(127);
    expect(sv.a.texts(view.id, "stderr").join("\n")).toContain("not found");
  });

  it("writes the exit status, ended by a newline, where the architecture says (over the placeholder reserved at start)", async () => {
    const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("exit 9"), cwd });
    await sv.a.exitOf(view.id);
    expect(readFileSync(`${sv.h.dataDir}/processes/${view.id}/exit`, "utf8")).toBe("9\n".padEnd(EXIT_PLACEHOLDER.length));
  });
});

describe("ProcessSupervisor: an exit not yet in the database", () => {
  // SQLite's lock stands in for any database that is slow or refuses for a while (PostgreSQL runs
  // the same path; only the lock is SQLite's).
  it.skipIf(onPostgres())("answers waitForExit with the exit it saw while the row still says running (a second writer holds the database)", async () => {
    const gate = path.join(sv.h.dataDir, "gate");
    const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh(`while [ ! -e '${gate}' ]; do sleep 0.02; done; exit 3`), cwd });
    const followed = sv.a.sup.waitForExit(view.id);
    const unlock = lockDatabase(sv.h.dataDir);
    try {
      await writeFile(gate, "");
      // Settled (the row's write refused and kept to retry): the supervisor no longer follows it.
      expect(await followed).toMatchObject({ status: "exited", exitCode: 3 });
      expect((await sv.a.sup.get(view.id)).status).toBe("running");
      // Asked now, it is answered from what the supervisor saw, not refused as "not followed".
      expect(await sv.a.sup.waitForExit(view.id)).toMatchObject({ status: "exited", exitCode: 3 });
    } finally {
      unlock();
    }
  });
});
