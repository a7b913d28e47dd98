/**
 * OOM evidence: the kernel log's OOM-kill records (format of mm/oom_kill.c, as /dev/kmsg gives
 * them) and the cgroup counter decide; nothing else makes a SIGKILL "out of memory". A record
 * written into the kernel log from user space (any root process can) does not count.
 */
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { oomEvidence, parseOomKills, readOomKills } from "./oom";

const BOOT = 1_700_000_000_000;
// Records as read from /dev/kmsg: priority 3 (kernel facility 0, level err), sequence, µs since boot.
const KERNEL_OOM = "3,1234,5000000,-;Out of memory: Killed process 4242 (node) total-vm:1234567kB, anon-rss:1000000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:2400kB oom_score_adj:0";
const MEMCG_OOM = "3,1240,6000000,-;Memory cgroup out of memory: Killed process 4343 (python3) total-vm:99999kB, anon-rss:65536kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:200kB oom_score_adj:0";
// Facility 1 (user): `echo … > /dev/kmsg` from a process.
const FORGED = "12,1250,7000000,-;Out of memory: Killed process 4444 (sh) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:0";

describe("parseOomKills", () => {
  it("reads the kernel's OOM-kill records (global and memory cgroup), with their time", () => {
    expect(parseOomKills([KERNEL_OOM, "6,1235,5000100,-;eth0: link up", MEMCG_OOM], BOOT)).toEqual([
      { pid: 4242, comm: "node", at: BOOT + 5000 },
      { pid: 4343, comm: "python3", at: BOOT + 6000 },
    ]);
  });
  it("ignores records from user space, malformed records and other kernel messages", () => {
    expect(parseOomKills([FORGED, "garbage", "3,1,2,-;oom-kill:constraint=CONSTRAINT_NONE,task=node,pid=1"], BOOT)).toEqual([]);
  });
});

describe("oomEvidence", () => {
  const kills = parseOomKills([KERNEL_OOM], BOOT);
  const window = { fromMs: BOOT + 1000, toMs: BOOT + 5500, cgroupOomKills: null };
  it("the cgroup's counter is evidence", () => {
    expect(oomEvidence({ ...window, cgroupOomKills: 1, pids: [], program: null, kills: [] })).toBe("the cgroup's memory.events counts 1 OOM kill(s)");
  });
  it("a kernel record during the process's life naming one of its pids, or its program, is evidence", () => {
    expect(oomEvidence({ ...window, pids: [4242], program: "sh", kills })).toBe("the kernel log: out of memory, killed process 4242 (node)");
    expect(oomEvidence({ ...window, pids: [1], program: "/usr/bin/node", kills })).toMatch(/killed process 4242 \(node\)/);
  });
  it("a record for another process, or outside the process's life, is not", () => {
    expect(oomEvidence({ ...window, pids: [1], program: "sh", kills })).toBeNull();
    expect(oomEvidence({ ...window, fromMs: BOOT + 7000, toMs: BOOT + 9000, pids: [4242], program: "node", kills })).toBeNull();
    expect(oomEvidence({ ...window, cgroupOomKills: 0, pids: [], program: null, kills: [] })).toBeNull();
  });
});

describe("readOomKills on this machine's kernel log", () => {
  it("reads /dev/kmsg to its end without blocking, and a record forged from user space is not an OOM kill", () => {
    const marker = `laneboard-test-${process.pid}-${Date.now()}`;
    let forged = false;
    try {
      writeFileSync("/dev/kmsg", `Out of memory: Killed process ${process.pid} (${marker.slice(0, 15)}) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:0\n`);
      forged = true;
    } catch {
      // not root: nothing forged, the read below still must not block or throw
    }
    const kills = readOomKills();
    expect(Array.isArray(kills)).toBe(true);
    if (forged) expect(kills.filter((k) => k.pid === process.pid)).toEqual([]);
  });
});
