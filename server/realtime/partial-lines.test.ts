import { describe, expect, it } from "vitest";
import type { OutputChunk } from "@/lib/log-chunk";
import { PARTIAL_TEXT_BYTES, PartialLines, partialMessage } from "./partial-lines";

const partial = (offset: number, text: string, o: { laneId?: string | null; processId?: string; stream?: "stdout" | "stderr" } = {}) => ({
  laneId: o.laneId === undefined ? "lane-1" : o.laneId,
  processId: o.processId ?? "p1",
  stream: o.stream ?? ("stdout" as const),
  offset,
  data: Buffer.from(text),
});
const chunk = (offset: number, text: string, stream: "stdout" | "stderr" = "stdout"): OutputChunk => ({ stream, offset, lines: 1, seq: 0, ts: 0, data: Buffer.from(text) });

describe("PartialLines", () => {
  it("keeps the newest partial line per process stream of a lane, until output reaches its offset", () => {
    const p = new PartialLines();
    expect(p.set(partial(10, "Continue? "))).toEqual({ laneId: "lane-1", processId: "p1", stream: "stdout", offset: 10, text: "Continue? " });
    p.set(partial(10, "Continue? [y/N] "));
    p.set(partial(0, "pass: ", { stream: "stderr" }));
    p.set(partial(5, "other lane", { laneId: "lane-2", processId: "p2" }));
    expect(p.forLane("lane-1").map((m) => m.text)).toEqual(["Continue? [y/N] ", "pass: "]);

    // Output before the partial line does not complete it; output reaching it does.
    p.onOutput({ laneId: "lane-1", processId: "p1", role: "worker", chunks: [chunk(0, "earlier\n")] });
    expect(p.forLane("lane-1")).toHaveLength(2);
    p.onOutput({ laneId: "lane-1", processId: "p1", role: "worker", chunks: [chunk(10, "Continue? [y/N] y\n")] });
    expect(p.forLane("lane-1").map((m) => m.stream)).toEqual(["stderr"]);
    p.forget("p1");
    expect(p.forLane("lane-1")).toEqual([]);
    expect(p.forLane("lane-2")).toHaveLength(1);
  });

  it("ignores processes without a lane", () => {
    const p = new PartialLines();
    expect(p.set(partial(0, "x", { laneId: null }))).toBeNull();
  });

  it("sends the end of a long partial line, cut on a character boundary", () => {
    const text = "é".repeat(PARTIAL_TEXT_BYTES); // 2 bytes each
    const m = partialMessage({ ...partial(0, `${text}50%`), laneId: "l" });
    expect(m.text.endsWith("é50%")).toBe(true);
    expect(m.text).not.toContain("\uFFFD");
    expect(Buffer.byteLength(m.text)).toBeLessThanOrEqual(PARTIAL_TEXT_BYTES + 1);
    expect(m.offset).toBe(0);
  });
});
