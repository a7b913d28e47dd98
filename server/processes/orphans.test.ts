/**
 * No process outlives its lane: whatever a supervised command started is stopped when the
 * wrapper ends, however it ends (SIGKILL of the wrapper, of the command, a child left in the
 * background, a child that called setsid), with a cgroup per process and without one, and after
 * a server restart. Survivors are looked for in /proc by the marker every descendant carries.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, sh, survivors, type Harness } from "./supervisor.testing";
import { findCgroupParent } from "./process-scope";
import { readProcStat } from "./procfs";

let h: Harness;
const cwd = os.tmpdir();
beforeEach(async () => {
  h = await createHarness({ killGraceMs: 500 });
});
afterEach(async () => {
  await h.cleanup();
});

const alive = (pid: number) => {
  const st = readProcStat(pid);
  return st !== null && st.state !== "Z";
};

/** Numbers the command printed as `pid <n>` lines. */
const pidsIn = (texts: string[]) => texts.flatMap((t) => /^pid (\d+)$/.exec(t)?.[1] ?? []).map(Number);

const modes = [
  ...(findCgroupParent() ? [{ name: "with a cgroup per process", cgroups: "auto" as const }] : []),
  { name: "with process groups and the marker only", cgroups: "off" as const },
];

describe.each(modes)("nothing outlives a process ($name)", ({ cgroups }) => {
  it("SIGKILL of the wrapper: the death is recorded as such, the command is stopped and its output read to the end", async () => {
    const a = await h.boot({ cgroups });
    // Prints its pid, then a numbered line every 20 ms; keeps printing until stopped.
    const view = await a.sup.start({ laneId: null, role: "worker", argv: sh('echo "pid $$"; i=0; while :; do i=$((i+1)); echo "n $i"; sleep 0.02; done'), cwd });
    await a.until(() => a.texts(view.id).length >= 5, "5 lines");
    const [command] = pidsIn(a.texts(view.id));
    process.kill(view.pid!, "SIGKILL");
    const exit = await a.exitOf(view.id);
    expect(exit).toMatchObject({ status: "exited", exitCode: null, signal: "SIGKILL", wrapperDied: true });
    expect(exit.leftovers).toBeGreaterThanOrEqual(1); // the command, and maybe its `sleep`
    expect(alive(command!)).toBe(false);
    expect(survivors(view.id)).toEqual([]);
    // Every line the command wrote before it was stopped was read, in order, none twice.
    const log = await a.sup.readLog(view.id, { stream: "stdout", fromLine: 0, limit: 100_000 });
    expect(a.texts(view.id)).toEqual(log.lines.map((l) => l.text));
    const numbers = a.texts(view.id).slice(1).map((t) => Number(t.slice(2)));
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    await a.events.flush();
    expect(a.laneEvents.find((e) => e.type === "process.exited")?.payload).toMatchObject({ wrapperDied: true, leftovers: exit.leftovers, signal: "SIGKILL" });
  });

  it("SIGKILL of the command: the children it left running are stopped", async () => {
    const a = await h.boot({ cgroups });
    const view = await a.sup.start({ laneId: null, role: "worker", argv: sh('sleep 300 & echo "pid $!"; echo "pid $$"; wait'), cwd });
    await a.until(() => pidsIn(a.texts(view.id)).length === 2, "two pids");
    const [child, command] = pidsIn(a.texts(view.id));
    process.kill(command!, "SIGKILL");
    expect(await a.exitOf(view.id)).toMatchObject({ status: "exited", signal: "SIGKILL", leftovers: 1 });
    expect(alive(child!)).toBe(false);
    expect(survivors(view.id)).toEqual([]);
  });

  it("a command that exits 0 leaves nothing behind, even a child that left the process group with setsid", async () => {
    const a = await h.boot({ cgroups });
    const view = await a.sup.start({ laneId: null, role: "worker", argv: sh('setsid sleep 300 & echo "pid $!"; sleep 300 & echo "pid $!"; exit 0'), cwd });
    const exit = await a.exitOf(view.id);
    expect(exit).toMatchObject({ status: "exited", exitCode: 0, leftovers: 2 });
    const pids = pidsIn(a.texts(view.id));
    expect(pids).toHaveLength(2);
    expect(pids.filter(alive)).toEqual([]);
    expect(survivors(view.id)).toEqual([]);
  });

  it("a wrapper killed while no server ran: the next server stops what is left and reads its output", async () => {
    const a = await h.boot({ cgroups });
    const view = await a.sup.start({ laneId: null, role: "worker", argv: sh('echo "pid $$"; read go; echo "after restart"; sleep 300'), cwd });
    await a.until(() => pidsIn(a.texts(view.id)).length === 1, "the command's pid");
    const [command] = pidsIn(a.texts(view.id));
    await h.stop(a);
    process.kill(view.pid!, "SIGKILL");
    // Release the command: it prints one more line, then waits.
    const { writeToFifo } = await import("./stdin");
    await writeToFifo(`${h.dataDir}/processes/${view.id}/stdin.fifo`, "go\n", view.id);
    await expect.poll(() => readFileSync(`${h.dataDir}/processes/${view.id}/stdout.log`, "utf8")).toContain("after restart");
    const b = await h.boot({ cgroups });
    expect((await b.sup.recover()).lost).toEqual([view.id]);
    expect(alive(command!)).toBe(false);
    expect(survivors(view.id)).toEqual([]);
    expect(b.texts(view.id)).toEqual(["after restart"]);
    await b.events.flush();
    expect(b.laneEvents.find((e) => e.type === "process.lost")?.payload).toMatchObject({ leftovers: expect.any(Number) });
  });

  it("kill stops a child that ignores SIGTERM and left the group, within the grace period", async () => {
    const a = await h.boot({ cgroups });
    const view = await a.sup.start({ laneId: null, role: "worker", argv: sh(`setsid sh -c 'trap "" TERM; echo "pid $$"; while :; do sleep 1; done' & wait`), cwd });
    await a.until(() => pidsIn(a.texts(view.id)).length === 1, "the escaped child's pid");
    const exit = await a.sup.kill(view.id, { graceMs: 300 });
    expect(exit.status).toBe("killed");
    expect(alive(pidsIn(a.texts(view.id))[0]!)).toBe(false);
    expect(survivors(view.id)).toEqual([]);
  });
});
