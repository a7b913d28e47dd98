/** The run records of `meta/order` (log-files.ts): written, read back, and repeated after a crash. */
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { appendRun, lastEntryAtOrBefore, lastRun, readRuns, type Run } from "./log-files";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function orderFile(runs: Run[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "laneboard-order-"));
  dirs.push(dir);
  const file = path.join(dir, "order");
  const fd = openSync(file, "a");
  for (const r of runs) appendRun(fd, r);
  closeSync(fd);
  return file;
}
const run = (seq: number, stream: Run["stream"], offset: number): Run => ({ seq, stream, offset, ts: 1000 + seq });

describe("readRuns", () => {
  it("reads the runs per stream in offset order, the last one being the highest run", () => {
    const runs = readRuns(orderFile([run(0, "stdout", 0), run(1, "stderr", 0), run(2, "stdout", 14), run(3, "stderr", 6)]));
    expect(runs.stdout.map((r) => [r.seq, r.offset])).toEqual([[0, 0], [2, 14]]);
    expect(runs.stderr.map((r) => [r.seq, r.offset])).toEqual([[1, 0], [3, 6]]);
    expect(lastRun(runs)).toEqual(run(3, "stderr", 6));
    expect(lastEntryAtOrBefore(runs.stdout, 13)?.seq).toBe(0);
    expect(lastEntryAtOrBefore(runs.stdout, 14)?.seq).toBe(2);
  });

  it("lets records written again after a crash (the state was not saved) replace the ones they repeat", () => {
    // Runs 2 (stdout@14) and 3 (stderr@6) were recorded, then the server died before saving its
    // offsets; the next one read both streams again from there, stderr first.
    const runs = readRuns(orderFile([run(0, "stdout", 0), run(1, "stderr", 0), run(2, "stdout", 14), run(3, "stderr", 6), run(2, "stderr", 6), run(3, "stdout", 14)]));
    expect(runs.stdout.map((r) => [r.seq, r.offset])).toEqual([[0, 0], [3, 14]]);
    expect(runs.stderr.map((r) => [r.seq, r.offset])).toEqual([[1, 0], [2, 6]]);
  });

  it("is empty for output from before runs were recorded (no file)", () => {
    expect(readRuns(path.join(os.tmpdir(), "laneboard-no-such-order-file"))).toEqual({ stdout: [], stderr: [] });
  });
});
