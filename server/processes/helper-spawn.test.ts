/**
 * The supervisor's wrappers are spawned by the git helper process (server/git/spawner.ts), not
 * forked from the server: the wrapper is the helper's child, its end is told by the helper, and a
 * helper that dies while wrappers run loses none of their ends (they are followed as processes
 * reattached after a restart are: exit file and pid).
 */
import os from "node:os";
import { describe, expect, it } from "vitest";
import { gitHelperPid } from "../git/spawner";
import { readProcStat } from "./procfs";
import { harnessPerTest, sh } from "./supervisor.testing";

const sv = harnessPerTest();
const cwd = os.tmpdir();

describe("ProcessSupervisor: wrappers spawned by the git helper", () => {
  it("starts the wrapper as the helper's child, detached in its own group, and records its exit as told by the helper", async () => {
    const view = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("read go; exit 4"), cwd });
    const stat = readProcStat(view.pid!);
    expect(stat?.ppid).toBe(gitHelperPid());
    expect(stat?.ppid).not.toBe(process.pid);
    expect(stat?.pgid).toBe(view.pid);
    await sv.a.sup.writeStdin(view.id, "now\n");
    expect(await sv.a.exitOf(view.id)).toMatchObject({ status: "exited", exitCode: 4, signal: null });
  });

  it("still records the ends of processes whose helper died: one that exits by itself, one killed", async () => {
    const exiting = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("read go; echo bye; exit 5"), cwd });
    const killed = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("read never"), cwd });
    const helper = gitHelperPid()!;
    expect(readProcStat(exiting.pid!)?.ppid).toBe(helper);
    const helperGone = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        const st = readProcStat(helper);
        if (st === null || st.state === "Z") resolve(clearInterval(poll));
      }, 10);
    });
    process.kill(helper, "SIGKILL");
    await helperGone;
    // The wrappers run on (detached): no longer anyone's child here.
    expect(readProcStat(exiting.pid!)?.state).not.toBe("Z");
    await sv.a.sup.writeStdin(exiting.id, "now\n");
    expect(await sv.a.exitOf(exiting.id)).toMatchObject({ status: "exited", exitCode: 5, signal: null });
    expect(sv.a.texts(exiting.id, "stdout")).toEqual(["bye"]);
    expect(await sv.a.sup.kill(killed.id, { graceMs: 5000 })).toMatchObject({ status: "killed", signal: "SIGTERM" });
    // The next start has a new helper.
    const next = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("exit 0"), cwd });
    expect(await sv.a.exitOf(next.id)).toMatchObject({ status: "exited", exitCode: 0 });
    expect(gitHelperPid()).not.toBe(helper);
  });
});
