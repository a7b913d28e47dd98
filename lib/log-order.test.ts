import { describe, expect, it } from "vitest";
import { compareLogLines, type Ordered } from "./log-order";

const l = (processId: string, stream: "stdout" | "stderr", offset: number, seq: number, ts: number): Ordered => ({ processId, stream, offset, seq, ts });

describe("compareLogLines", () => {
  it("orders one process's streams by run, whatever the read times", () => {
    const lines = [l("P", "stderr", 0, 1, 5), l("P", "stdout", 10, 2, 1), l("P", "stdout", 0, 0, 9)];
    expect(lines.sort(compareLogLines).map((x) => `${x.stream}@${x.offset}`)).toEqual(["stdout@0", "stderr@0", "stdout@10"]);
  });

  it("orders one stream by offset, processes by time, and lines without a run by time then stdout first", () => {
    expect(compareLogLines(l("P", "stdout", 5, 3, 9), l("P", "stdout", 9, 0, 1))).toBeLessThan(0);
    expect(compareLogLines(l("A", "stdout", 0, 0, 2), l("B", "stdout", 0, 0, 1))).toBeGreaterThan(0);
    expect(compareLogLines(l("P", "stderr", 0, -1, 1), l("P", "stdout", 0, -1, 2))).toBeLessThan(0);
    expect(compareLogLines(l("P", "stderr", 0, -1, 1), l("P", "stdout", 0, -1, 1))).toBeGreaterThan(0);
  });
});
