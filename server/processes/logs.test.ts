/** Reading logs back, log files damaged under the tailer, and retention. */
import { mkdirSync, statSync, truncateSync, unlinkSync } from "node:fs";
import { execa } from "execa";
import os from "node:os";
import { describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { appErrorCode, harnessPerTest, sh } from "./supervisor.testing";

const sv = harnessPerTest();
const cwd = os.tmpdir();

/** A finished process that printed "line 0" … "line 99" on stdout and "e0" … "e9" on stderr. */
async function hundredLines(): Promise<string> {
  const v = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("i=0; while [ $i -lt 100 ]; do echo \"line $i\"; [ $i -lt 10 ] && echo e$i >&2; i=$((i+1)); done"), cwd });
  await sv.a.exitOf(v.id);
  return v.id;
}

describe("readLog and tail", () => {
  it("pages through a stream by byte range with continuation offsets", async () => {
    const id = await hundredLines();
    const p1 = await sv.a.sup.readLog(id, { stream: "stdout", limit: 10 });
    expect(p1.lines.map((l) => l.text)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i}`));
    expect(p1).toMatchObject({ from: 0, eof: false, truncatedBefore: 0 });
    expect(p1.to).toBe(p1.lines.reduce((n, l) => n + Buffer.byteLength(l.text) + 1, 0));
    const p2 = await sv.a.sup.readLog(id, { stream: "stdout", from: p1.to, limit: 10 });
    expect(p2.lines[0]!.text).toBe("line 10");
    expect(p2.lines[0]!.offset).toBe(p1.to);
    const rest = await sv.a.sup.readLog(id, { stream: "stdout", from: p2.to, limit: 1000 });
    expect(rest.lines).toHaveLength(80);
    expect(rest.eof).toBe(true);
    // lines read back carry the same offsets and texts as the ones published live
    const live = sv.a.lines.filter((l) => l.processId === id && l.stream === "stdout");
    expect([...p1.lines, ...p2.lines, ...rest.lines].map((l) => [l.offset, l.text])).toEqual(live.map((l) => [l.offset, l.text]));
  });

  it("aligns a mid-line offset to the next line, honours `to`, and reads by line number", async () => {
    const id = await hundredLines();
    const mid = await sv.a.sup.readLog(id, { stream: "stdout", from: 3, limit: 1 });
    expect(mid.lines[0]!.text).toBe("line 1");
    const bounded = await sv.a.sup.readLog(id, { stream: "stdout", from: 0, to: 14 }); // "line 0\nline 1\n" is 14 bytes
    expect(bounded.lines.map((l) => l.text)).toEqual(["line 0", "line 1"]);
    const byLine = await sv.a.sup.readLog(id, { stream: "stdout", fromLine: 57, limit: 3 });
    expect(byLine.lines.map((l) => l.text)).toEqual(["line 57", "line 58", "line 59"]);
    const stderr = await sv.a.sup.readLog(id, { stream: "stderr", fromLine: 8 });
    expect(stderr.lines.map((l) => l.text)).toEqual(["e8", "e9"]);
    expect((await sv.a.sup.readLog(id, { stream: "stdout", fromLine: 500 })).lines).toEqual([]);
  });

  it("answers the end of a stream with an empty page and past the end with range_not_satisfiable", async () => {
    const id = await hundredLines();
    const end = (await sv.a.sup.readLog(id, { stream: "stdout", limit: 100_000 })).to;
    const atEnd = await sv.a.sup.readLog(id, { stream: "stdout", from: end });
    expect(atEnd).toMatchObject({ lines: [], eof: true, from: end, to: end });
    expect(await appErrorCode(sv.a.sup.readLog(id, { stream: "stdout", from: end + 1 }))).toBe("range_not_satisfiable");
    expect(await appErrorCode(sv.a.sup.readLog(id, { stream: "stdout", from: -1 }))).toBe("invalid_input");
    expect(await appErrorCode(sv.a.sup.readLog(id, { stream: "stdout", limit: 0 }))).toBe("invalid_input");
    expect(await appErrorCode(sv.a.sup.readLog("missing", { stream: "stdout" }))).toBe("not_found");
  });

  it("readChunk reads whole lines as bytes into the caller's buffer, from a line start", async () => {
    const id = await hundredLines();
    const total = Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join("").length;
    const into = Buffer.alloc(1 << 20);
    // A call stops at the end of the tailer's run `from` is in (how many runs depends on when the
    // tailer read), so a range is read by calls that each continue where the last one ended.
    const readRange = async (from: number, to: number) => {
      let offset = from;
      let lines = 0;
      let text = "";
      while (offset < to) {
        const run = await sv.a.sup.readChunk(id, "stdout", offset, to, into);
        expect(run?.offset).toBe(offset);
        // Read into `into` (no copy), ending at a line boundary.
        expect(run!.data.buffer).toBe(into.buffer);
        expect(run!.data.at(-1)).toBe(0x0a);
        lines += run!.lines;
        text += run!.data.toString();
        offset += run!.data.length;
      }
      return { lines, text };
    };
    expect(await readRange(0, total)).toEqual({ lines: 100, text: Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join("") });
    const at = "line 0\nline 1\n".length;
    expect(await readRange(at, at + "line 2\nline 3\n".length)).toEqual({ lines: 2, text: "line 2\nline 3\n" });
    // A buffer that cannot hold one maximal line (or the whole range) is a caller's bug, not "gone".
    await expect(sv.a.sup.readChunk(id, "stdout", 0, total, Buffer.alloc(5))).rejects.toThrow(RangeError);
    // Past the end, or an inverted range: nothing to read.
    expect(await sv.a.sup.readChunk(id, "stdout", 0, total + 1, into)).toBeNull();
    expect(await sv.a.sup.readChunk(id, "stdout", 20, 10, into)).toBeNull();
    expect(await sv.a.sup.readChunk("nope", "stdout", 0, 10, into)).toBeNull();
  });

  it("tail merges both streams in write order, newest last", async () => {
    // 50 lines of stdout, 10 of stderr, 50 of stdout, each switch of stream after the tailer has
    // published the lines before it: the order the guarantee covers whatever the load
    // (docs/architecture.md, "Order across stdout and stderr"). A merge by read time put e0…e9
    // last when both streams were read in one go.
    const v = await sv.a.sup.start({
      laneId: null,
      role: "worker",
      argv: sh('i=0; while [ $i -lt 50 ]; do echo "line $i"; i=$((i+1)); done; read x; i=0; while [ $i -lt 10 ]; do echo e$i >&2; i=$((i+1)); done; read x; while [ $i -lt 60 ]; do echo "line $((i+40))"; i=$((i+1)); done'),
      cwd,
    });
    await sv.a.until(() => sv.a.texts(v.id).includes("line 49"), "line 49 published");
    await sv.a.sup.writeStdin(v.id, "\n");
    await sv.a.until(() => sv.a.texts(v.id).includes("e9"), "e9 published");
    await sv.a.sup.writeStdin(v.id, "\n");
    await sv.a.exitOf(v.id);
    const line = (i: number) => `line ${i}`;
    const t = await sv.a.sup.tail(v.id, 5);
    expect(t.map((l) => l.text)).toEqual([95, 96, 97, 98, 99].map(line));
    const all = await sv.a.sup.tail(v.id, 1000);
    expect(all.map((l) => l.text)).toEqual([
      ...Array.from({ length: 50 }, (_, i) => line(i)),
      ...Array.from({ length: 10 }, (_, i) => `e${i}`),
      ...Array.from({ length: 50 }, (_, i) => line(50 + i)),
    ]);
    for (let i = 1; i < all.length; i++) expect(all[i]!.ts).toBeGreaterThanOrEqual(all[i - 1]!.ts);
  });

  it("for a live process, returns only what has been published (no partial line)", async () => {
    const v = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("echo done; printf partial; read x"), cwd });
    await sv.a.until(() => sv.a.texts(v.id).includes("done"), "done");
    const page = await sv.a.sup.readLog(v.id, { stream: "stdout" });
    expect(page.lines.map((l) => l.text)).toEqual(["done"]);
    expect(page.eof).toBe(true);
    expect((await sv.a.sup.tail(v.id, 10)).map((l) => l.text)).toEqual(["done"]);
    await sv.a.sup.writeStdin(v.id, "\n");
    await sv.a.exitOf(v.id);
    expect((await sv.a.sup.tail(v.id, 10)).map((l) => l.text)).toEqual(["done", "partial"]);
  });
});

describe("log files damaged under the tailer", () => {
  const ticker = sh('echo "first"; read x; echo "second"; read x; echo "third"');

  it("a truncated log: warning event, offsets keep increasing, later lines still delivered", async () => {
    const v = await sv.a.sup.start({ laneId: null, role: "worker", argv: ticker, cwd });
    await sv.a.until(() => sv.a.texts(v.id).includes("first"), "first");
    truncateSync(`${sv.h.dataDir}/processes/${v.id}/stdout.log`, 0);
    await sv.a.sup.writeStdin(v.id, "\n");
    await sv.a.until(() => sv.a.texts(v.id).includes("second"), "second after truncation");
    await sv.a.until(() => sv.a.laneEvents.some((e) => e.type === "warning"), "warning event");
    const warning = sv.a.laneEvents.find((e) => e.type === "warning")!;
    expect(warning.payload).toMatchObject({ failureClass: "infra", message: expect.stringContaining("truncated") });
    await sv.a.sup.writeStdin(v.id, "\n");
    expect((await sv.a.exitOf(v.id)).exitCode).toBe(0);
    const lines = sv.a.lines.filter((l) => l.processId === v.id);
    expect(lines.map((l) => l.text)).toEqual(["first", "second", "third"]);
    expect(lines[1]!.offset).toBeGreaterThan(lines[0]!.offset);
    const page = await sv.a.sup.readLog(v.id, { stream: "stdout" });
    expect(page.lines.map((l) => l.text)).toEqual(["second", "third"]);
    expect(page.truncatedBefore).toBe(lines[1]!.offset);
  });

  it("a deleted log: warning event, live output continues from the open file", async () => {
    const v = await sv.a.sup.start({ laneId: null, role: "worker", argv: ticker, cwd });
    await sv.a.until(() => sv.a.texts(v.id).includes("first"), "first");
    unlinkSync(`${sv.h.dataDir}/processes/${v.id}/stdout.log`);
    await sv.a.until(() => sv.a.laneEvents.some((e) => e.type === "warning"), "warning event");
    expect(sv.a.laneEvents.find((e) => e.type === "warning")!.payload).toMatchObject({ message: expect.stringContaining("deleted") });
    await sv.a.sup.writeStdin(v.id, "\n");
    await sv.a.sup.writeStdin(v.id, "\n");
    expect((await sv.a.exitOf(v.id)).exitCode).toBe(0);
    expect(sv.a.texts(v.id)).toEqual(["first", "second", "third"]);
    expect(await appErrorCode(sv.a.sup.readLog(v.id, { stream: "stdout" }))).toBe("unavailable");
    // the other stream and other processes are unaffected
    expect((await sv.a.sup.readLog(v.id, { stream: "stderr" })).lines).toEqual([]);
  });
});

describe("retention", () => {
  // 2,000 lines of 100 bytes = 200,000 bytes, written in bursts so the tailer publishes in pieces.
  const writer = sh('i=0; while [ $i -lt 2000 ]; do printf "%099d\\n" $i; i=$((i+1)); [ $((i % 200)) -eq 0 ] && sleep 0.05; done');

  it("caps a live process's logs by punching holes, keeping offsets and line numbers exact", async () => {
    // 40,000 lines of 100 bytes (4 MB) against a 2 MiB cap, then the process waits for the test,
    // so the cap is applied while it is live whatever the machine's speed. The line index gets
    // an entry at least every MiB (INDEX_EVERY_BYTES), so a cut at a line boundary always exists
    // within the 1.5 MiB that trimming keeps.
    const LINES = 40_000;
    const b = await sv.h.boot({ logMaxBytesPerProcess: 2 * 1024 * 1024 });
    const v = await b.sup.start({ laneId: null, role: "worker", argv: sh(`awk 'BEGIN { for (i = 0; i < ${LINES}; i++) printf "%099d\\n", i }'; read go`), cwd });
    await b.until(() => b.texts(v.id).length === LINES && b.laneEvents.some((e) => e.type === "process.output_truncated"), "every line published and the live log capped", 60_000);
    expect((await b.sup.get(v.id)).status).toBe("running");
    await b.sup.writeStdin(v.id, "go\n");
    await b.exitOf(v.id);
    const view = await b.sup.get(v.id);
    expect(view.truncatedBytes).toBeGreaterThan(0);
    expect(b.texts(v.id)).toHaveLength(LINES); // every line was delivered live
    const page = await b.sup.readLog(v.id, { stream: "stdout", limit: 100_000 });
    expect(page.truncatedBefore).toBeGreaterThan(0);
    expect(page.lines[0]!.offset).toBe(page.truncatedBefore);
    expect(Number(page.lines[0]!.text)).toBe(page.truncatedBefore / 100);
    expect(page.lines.at(-1)!.text).toBe(String(LINES - 1).padStart(99, "0"));
    const byLine = await b.sup.readLog(v.id, { stream: "stdout", fromLine: LINES - 10, limit: 1 });
    expect(Number(byLine.lines[0]!.text)).toBe(LINES - 10);
    const st = statSync(`${sv.h.dataDir}/processes/${v.id}/stdout.log`);
    expect(st.size).toBe(LINES * 100);
    expect(st.blocks * 512).toBeLessThan(LINES * 100); // head deallocated
  });

  it("over the total cap, drops whole logs of finished processes, oldest first", async () => {
    const b = await sv.h.boot({ logMaxBytesTotal: 300_000 });
    const first = await b.sup.start({ laneId: null, role: "worker", argv: writer, cwd });
    await b.exitOf(first.id);
    const second = await b.sup.start({ laneId: null, role: "worker", argv: writer, cwd });
    await b.exitOf(second.id);
    await b.until(() => b.laneEvents.some((e) => e.type === "process.output_truncated"), "truncation event");
    const old = await b.sup.readLog(first.id, { stream: "stdout" });
    expect(old).toMatchObject({ lines: [], eof: true, truncatedBefore: 200_000 });
    expect((await b.sup.get(first.id)).truncatedBytes).toBe(200_000);
    expect((await b.sup.readLog(second.id, { stream: "stdout", limit: 100_000 })).lines).toHaveLength(2000);
  });
});

describe("a disk that fills", () => {
  it("records a disk.full event, refuses new processes with 503 disk_full, and keeps serving", async (ctx) => {
    // A 1 MiB tmpfs under the process logs (the database stays on the real disk). Needs the
    // privilege to mount; skipped (visibly) where the test runner lacks it.
    const logsDir = `${sv.h.dataDir}/processes`;
    mkdirSync(logsDir, { recursive: true });
    const mounted = await execa("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", logsDir], { reject: false });
    if (mounted.exitCode !== 0) ctx.skip();
    try {
      const filler = await sv.a.sup.start({ laneId: null, role: "worker", argv: sh("yes 0123456789012345678901234567890123456789 | head -c 3000000"), cwd });
      const exit = await sv.a.exitOf(filler.id);
      expect(exit.status).toBe("exited");
      expect(exit.exitCode).not.toBe(0); // head could not write all of its output
      await sv.a.until(() => sv.a.laneEvents.some((e) => e.type === "disk.full"), "disk.full event");
      const err = await sv.a.sup.start({ laneId: null, role: "worker", argv: ["true"], cwd }).then(() => null, (e: unknown) => e);
      expect(isAppError(err) && err.code).toBe("disk_full");
      expect(await sv.a.sup.diskFull()).toBe(true);
      // what was written is still served
      const page = await sv.a.sup.readLog(filler.id, { stream: "stdout", limit: 5 });
      expect(page.lines.map((l) => l.text)).toEqual(Array(5).fill("0123456789012345678901234567890123456789"));
      expect((await sv.a.sup.get(filler.id)).status).toBe("exited");
    } finally {
      await sv.h.stop(sv.a);
      await execa("umount", [logsDir], { reject: false });
    }
  });
});
