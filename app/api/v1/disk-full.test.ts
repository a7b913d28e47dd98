/**
 * A full disk loses nothing already known, on a real runtime whose data directory is a small
 * tmpfs (mounted here; needs root, as the test machines run): a lane floods its log until the
 * disk is full, its exit is recorded and its lane settled as soon as space returns, without a
 * restart; the condition is an event; new work gets 503 `disk_full` (not a 500 with git's text);
 * the lane next to it, which was fine, stays fine and finishes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmdirSync, truncateSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setRuntime } from "@/server/runtime-global";
import { freeBytes, MIN_FREE_BYTES } from "@/server/processes/disk-watch";
import { processPaths } from "@/server/processes/wrapper";
import { shellPacket, startTestRuntime, waitForLane, waitForOutput, type TestRuntime } from "@/server/testing/runtime-harness";
import { eventually, laneEvents, ofType, SH } from "@/server/recovery/lane-fixtures.testing";
import { groupMembers } from "@/server/processes/procfs";
import { apiRequest } from "@/server/testing/auth";
import * as lanes from "./lanes/route";
import * as kill from "./lanes/[id]/kill/route";

const mount = mkdtempSync(path.join(os.tmpdir(), "laneboard-tmpfs-"));
let mounted = false;
try {
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=32m", "tmpfs", mount], { stdio: "ignore" });
  mounted = true;
} catch {
  // not root: see the skip below
}

let h: TestRuntime;
beforeAll(async () => {
  if (!mounted) return;
  h = await startTestRuntime({ dataDir: mount, killGraceMs: 500 });
  setRuntime(h.rt);
});
afterAll(async () => {
  setRuntime(undefined);
  await h?.close();
  if (mounted) execFileSync("umount", [mount]);
  rmdirSync(mount);
});

const none = { params: Promise.resolve({}) };
const post = (body: unknown) => apiRequest("POST", "/api/v1/lanes", body);

describe.skipIf(!mounted)("a full data disk (tmpfs of 32 MiB)", () => {
  it("records the flooding lane's exit once space returns, refuses new work with 503 disk_full, and leaves the other lane fine", async () => {
    const fine = await h.rt.lanes.create(shellPacket(h.repoId, SH("echo ready; read go; echo done")));
    await waitForOutput(h.rt, fine.id, "ready");
    // It says what it is on stderr first: a worker that printed nothing would be restarted by the startup-crash recipe.
    const flood = await h.rt.lanes.create(shellPacket(h.repoId, SH("echo flooding >&2; exec yes 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")));
    await expect.poll(async () => (await freeBytes(mount))! < MIN_FREE_BYTES, { timeout: 30_000 }).toBe(true);

    // New work while full: 503 disk_full, not a 500 with git's error text. Refusing it is the
    // server seeing the disk full, so the disk.full edge cannot slip between two samples.
    const res = await lanes.POST(post(shellPacket(h.repoId, ["true"])), none);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("disk_full");
    expect((await h.rt.lanes.get(fine.id)).state).toBe("running");

    // The flooder dies of ENOSPC; its exit cannot reach the database yet. Free the space: no restart.
    const floodRow = await waitForLane(h.rt, flood.id, (l) => l.currentProcessId !== null);
    const floodProc = await h.rt.supervisor.get(floodRow.currentProcessId!);
    await expect.poll(() => groupMembers(floodProc.pgid!).length, { timeout: 30_000 }).toBe(0);
    truncateSync(processPaths(mount, floodRow.currentProcessId!).stdout, 0);
    const settled = await waitForLane(h.rt, flood.id, (l) => l.state === "failed", 30_000);
    expect(settled.lastExitCode).not.toBeNull();
    expect(await h.rt.supervisor.get(floodRow.currentProcessId!)).toMatchObject({ status: "exited" });
    const freed = await eventually(h.rt, null, "disk.space_freed");
    expect(freed.payload.freeBytes).toBeGreaterThanOrEqual(MIN_FREE_BYTES);
    const events = await laneEvents(h.rt, flood.id);
    expect(ofType(events, "process.exited")).toHaveLength(1);
    const all = (await h.rt.events.listAfter(0, { limit: 5000 })).events;
    const full = all.filter((e) => e.type === "disk.full");
    expect(full).toHaveLength(1);
    // In the order things happened: full, the exit kept while full, then room again once it landed.
    const at = (id: number) => all.findIndex((e) => e.id === id);
    expect(at(full[0]!.id)).toBeLessThan(at(ofType(events, "process.exited")[0]!.id));
    expect(at(ofType(events, "process.exited")[0]!.id)).toBeLessThan(at(freed.id));
    expect(all.filter((e) => e.type === "disk.space_freed")).toHaveLength(1);

    // The lane that was fine is fine: it takes its input and finishes.
    await h.rt.supervisor.writeStdin((await h.rt.lanes.get(fine.id)).currentProcessId!, "go\n");
    expect((await waitForLane(h.rt, fine.id, (l) => l.state !== "running", 30_000)).state).toBe("finished");
    // And new work is accepted again.
    const again = await lanes.POST(post(shellPacket(h.repoId, ["true"])), none);
    expect(again.status, await again.clone().text()).toBe(201);
  }, 180_000); // three lanes made with git and a 32 MiB flood tailed: ~45 s at a load average of 28 on 2 cores; each wait inside is on an event

  it("POST /api/v1/lanes/:id/kill stops a lane that keeps writing on the full disk it filled, and its end is recorded once space returns", async () => {
    // Once running, it fills the disk, then keeps trying to write (a write refused with ENOSPC does not stop it).
    const stubborn = await h.rt.lanes.create(shellPacket(h.repoId, SH("echo stubborn >&2; read go; yes 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef; while :; do echo still-here || sleep 0.1; done")));
    const { currentProcessId } = await waitForLane(h.rt, stubborn.id, (l) => l.state === "running" && l.currentProcessId !== null);
    await h.rt.supervisor.writeStdin(currentProcessId!, "go\n");
    await expect.poll(async () => (await freeBytes(mount))! < MIN_FREE_BYTES, { timeout: 30_000 }).toBe(true);
    const { pgid } = await h.rt.supervisor.get(currentProcessId!);
    expect(groupMembers(pgid!).length).toBeGreaterThan(0);

    // A person can stop it while the disk is full: the kill frees (and needs) no space.
    const res = await kill.POST(apiRequest("POST", `/api/v1/lanes/${stubborn.id}/kill`, {}), { params: Promise.resolve({ id: stubborn.id }) });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { state: string }).state).toBe("killed");
    expect(groupMembers(pgid!)).toEqual([]);

    // Once space returns, the lane is recorded killed (once) and its process too.
    truncateSync(processPaths(mount, currentProcessId!).stdout, 0);
    expect((await waitForLane(h.rt, stubborn.id, (l) => l.state === "killed", 30_000)).state).toBe("killed");
    await expect.poll(async () => ofType(await laneEvents(h.rt, stubborn.id), "lane.killed").length, { timeout: 30_000 }).toBe(1);
    expect(await h.rt.supervisor.get(currentProcessId!)).toMatchObject({ status: "killed" });
    expect(ofType(await laneEvents(h.rt, stubborn.id), "lane.failed")).toEqual([]);
  }, 120_000);
});
