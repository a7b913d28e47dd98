import { describe, expect, it } from "vitest";
import type { LogLine } from "@/lib/api";
import { LogBuffer, ShownPartials } from "./log-buffer";

const line = (offset: number, ts: number, stream: LogLine["stream"] = "stdout", processId = "p1", seq = -1): LogLine => ({
  processId,
  stream,
  offset,
  seq,
  ts,
  text: `${stream}@${offset}`,
});
const texts = (b: LogBuffer) => b.snapshot().map((e) => (e.kind === "marker" ? `[${e.text}]` : e.line.text));

describe("LogBuffer", () => {
  it("dedupes by (processId, stream, offset) across overlapping batches", () => {
    const b = new LogBuffer();
    expect(b.add([line(0, 1), line(10, 2)])).toBe(2);
    expect(b.add([line(10, 2), line(20, 3)])).toBe(1);
    expect(b.add([line(10, 2, "stderr")])).toBe(1);
    expect(b.add([line(10, 2, "stdout", "p2")])).toBe(1);
    expect(b.size).toBe(5);
  });

  it("inserts history that arrives after live lines in time order", () => {
    const b = new LogBuffer();
    b.add([line(100, 50), line(110, 51)]);
    b.add([line(0, 10), line(50, 20), line(100, 50)]);
    expect(texts(b)).toEqual(["stdout@0", "stdout@50", "stdout@100", "stdout@110"]);
  });

  it("orders one process's stdout and stderr by run, whatever their read times and arrival order", () => {
    const b = new LogBuffer();
    // Runs: stdout 0 (two lines), stderr 1, stdout 2; history stamps may be older than live ones.
    b.add([line(0, 50, "stderr", "p1", 1)]);
    b.add([line(0, 90, "stdout", "p1", 0), line(8, 90, "stdout", "p1", 0)]);
    b.add([line(16, 100, "stdout", "p1", 2)]);
    b.addEarlier([line(8, 80, "stdout", "p1", 0)]);
    expect(texts(b)).toEqual(["stdout@0", "stdout@8", "stderr@0", "stdout@16"]);
  });

  it("orders lines of one stream with equal ts by offset", () => {
    const b = new LogBuffer();
    b.add([line(30, 5)]);
    b.add([line(10, 5), line(20, 5)]);
    expect(texts(b)).toEqual(["stdout@10", "stdout@20", "stdout@30"]);
  });

  it("places a marker after the newest line and keeps it there", () => {
    const b = new LogBuffer();
    b.add([line(0, 1)]);
    b.addMarker("3 lines dropped");
    b.add([line(10, 2)]);
    expect(texts(b)).toEqual(["stdout@0", "[3 lines dropped]", "stdout@10"]);
  });

  it("drops the oldest entries beyond maxEntries and does not take them back", () => {
    const b = new LogBuffer(3);
    b.add([line(0, 1), line(10, 2), line(20, 3), line(30, 4)]);
    expect(texts(b)).toEqual(["stdout@10", "stdout@20", "stdout@30"]);
    expect(b.trimmed).toBe(1);
    expect(b.add([line(0, 1)])).toBe(0);
    expect(texts(b)).toEqual(["stdout@10", "stdout@20", "stdout@30"]);
    expect(b.trimmed).toBe(1);
  });

  it("snapshot is a copy", () => {
    const b = new LogBuffer();
    b.add([line(0, 1)]);
    const snap = b.snapshot();
    b.add([line(10, 2)]);
    expect(snap).toHaveLength(1);
  });
});

describe("ShownPartials", () => {
  const prompt = (offset: number, text: string, stream: LogLine["stream"] = "stdout", processId = "p1") => ({ processId, stream, offset, text });
  const shown = (s: ShownPartials) => s.entries().map((e) => (e.kind === "marker" ? "" : `${e.line.processId}/${e.line.stream}@${e.line.offset}: ${e.line.text}`));

  it("shows one partial line per process stream, the newest replacing the older", () => {
    const s = new ShownPartials();
    s.set(prompt(100, "Continue? "), 1);
    s.set(prompt(100, "Continue? [y/N] "), 2);
    s.set(prompt(40, "password: ", "stderr"), 3);
    s.set(prompt(0, "building", "stdout", "p2"), 4);
    expect(shown(s)).toEqual(["p1/stdout@100: Continue? [y/N] ", "p1/stderr@40: password: ", "p2/stdout@0: building"]);
    expect(s.entries().every((e) => e.kind === "partial")).toBe(true);
  });

  it("goes when a line of its stream reaches its offset, not for earlier lines or other streams", () => {
    const s = new ShownPartials();
    s.set(prompt(100, "Continue? "), 1);
    expect(s.complete([line(20, 1), line(100, 2, "stderr"), line(100, 2, "stdout", "p2")])).toBe(false);
    expect(shown(s)).toHaveLength(1);
    expect(s.complete([{ ...line(100, 3), text: "Continue? y" }])).toBe(true);
    expect(shown(s)).toEqual([]);
    expect(s.complete([line(200, 4)])).toBe(false);
  });
});
