import { describe, expect, it } from "vitest";
import type { LaneView, LogLine } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";
import { conversationOf, promptAvailability } from "./lane-conversation";
import { FAILURE_LINE, logRows } from "./lane-log";
import { LogBuffer } from "./log-buffer";

const line = (processId: string, stream: "stdout" | "stderr", offset: number, ts: number, text = `t${offset}`): LogLine => ({ processId, stream, offset, seq: -1, ts, text });

describe("LogBuffer.addEarlier", () => {
  it("merges output read back from before what is held, in order, without duplicates, and makes room for it", () => {
    const b = new LogBuffer(3);
    b.add([line("P", "stdout", 300, 30), line("P", "stdout", 400, 40), line("P", "stdout", 500, 50)]);
    expect(b.addEarlier([line("P", "stdout", 100, 10), line("P", "stdout", 200, 20), line("P", "stdout", 300, 30)])).toBe(2);
    expect(b.snapshot().map((e) => (e.kind === "line" ? e.line.offset : -1))).toEqual([100, 200, 300, 400, 500]);
    expect(b.maxEntries).toBe(5);
  });

  it("without grow (a resume after a reconnect), keeps its bound: the oldest entries make room", () => {
    const b = new LogBuffer(3);
    b.add([line("P", "stdout", 100, 10), line("P", "stdout", 500, 50)]);
    expect(b.addEarlier([line("P", "stdout", 200, 20), line("P", "stdout", 300, 30)], { grow: false })).toBe(2);
    expect(b.snapshot().map((e) => (e.kind === "line" ? e.line.offset : -1))).toEqual([200, 300, 500]);
    expect([b.maxEntries, b.trimmed]).toEqual([3, 1]);
  });

  it("puts a gap marker right after the line it follows, and removes it once loaded", () => {
    const b = new LogBuffer(10);
    b.add([line("P", "stdout", 0, 1), line("P", "stdout", 10, 2)]);
    const key = b.addMarkerAfter("P:stdout:0", "skipped", { gap: { processId: "P", stream: "stdout", from: 5, to: 10 } });
    expect(b.snapshot().map((e) => e.key)).toEqual(["P:stdout:0", key, "P:stdout:10"]);
    b.removeMarker(key);
    expect(b.snapshot()).toHaveLength(2);
    // No line to follow: the output is missing before everything held.
    const first = b.addMarkerAfter(null, "older output deleted");
    expect(b.snapshot().map((e) => e.key)).toEqual([first, "P:stdout:0", "P:stdout:10"]);
  });
});

describe("logRows", () => {
  it("puts a divider naming the process before each process's lines, and filters to stderr when asked", () => {
    const b = new LogBuffer(10);
    b.add([line("W", "stdout", 0, 1), line("W", "stderr", 0, 2), line("C", "stdout", 0, 3)]);
    const names = new Map([["W", "attempt 1 · worker"], ["C", "attempt 1 · check targeted"]]);
    const rows = logRows(b.snapshot(), names, false);
    expect(rows.map((r) => (r.kind === "marker" ? r.text : r.line.stream))).toEqual(["attempt 1 · worker", "stdout", "stderr", "attempt 1 · check targeted", "stdout"]);
    expect(logRows(b.snapshot(), names, true).map((r) => (r.kind === "marker" ? r.text : r.line.stream))).toEqual(["attempt 1 · worker", "stderr"]);
  });

  it("recognises failure lines of common runners", () => {
    for (const t of ["not ok 3 - rounds", "Error: boom", "FAIL src/a.test.ts", "✖ 1 failing", "Traceback (most recent call last):"]) expect(FAILURE_LINE.test(t), t).toBe(true);
    for (const t of ["ok 1 - fine", "# pass 7", "errorless run"]) expect(FAILURE_LINE.test(t), t).toBe(false);
  });
});

const ev = (id: number, type: string, payload: unknown) => ({ id, v: 1, laneId: "L", repoId: null, at: "2026-01-01T00:00:00.000Z", type, payload }) as unknown as LaneEvent;

describe("conversation", () => {
  it("reads prompts, tool calls, failed tools and answers from the events, in order", () => {
    const turns = conversationOf([
      ev(1, "lane.started", { workerId: "W", processId: "P", pid: 1, attempt: 1 }),
      ev(2, "worker.prompted", { workerId: "W", text: "add x", source: "packet" }),
      ev(3, "worker.activity", { workerId: "W", kind: "tool_use", name: "Edit", detail: "x.js" }),
      ev(4, "worker.activity", { workerId: "W", kind: "tool_error", name: "Bash", detail: "exit 1" }),
      ev(5, "worker.activity", { workerId: "W", kind: "final_message", detail: "Done." }),
      ev(6, "lane.green", { level: "targeted", command: [], durationMs: 1 }),
    ]);
    expect(turns.map((t) => t.kind)).toEqual(["divider", "prompt", "tool", "tool", "answer"]);
  });

  it("enables the prompt box only when a prompt can be taken, and says why", () => {
    const base = { id: "L", engine: "claude", state: "running", worker: { state: "running", sessionId: "S" } } as unknown as LaneView;
    expect(promptAvailability(base)).toMatchObject({ enabled: false, reason: expect.stringContaining("working") });
    expect(promptAvailability({ ...base, worker: { ...base.worker!, state: "ready_for_prompt" } })).toMatchObject({ enabled: true, mode: "prompt" });
    expect(promptAvailability({ ...base, state: "finished" })).toMatchObject({ enabled: true, mode: "follow_up" });
    expect(promptAvailability({ ...base, state: "finished", engine: "anthropic" })).toMatchObject({ enabled: false });
    expect(promptAvailability({ ...base, state: "queued", worker: null })).toMatchObject({ enabled: false, reason: expect.stringContaining("queued") });
  });
});
