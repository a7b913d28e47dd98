import { describe, expect, it } from "vitest";
import { chunks, inBatches, MAX_IN_LIST } from "./batch";

describe("chunks / inBatches", () => {
  it("splits ids into bounded chunks and keeps their order", async () => {
    const ids = Array.from({ length: 2 * MAX_IN_LIST + 3 }, (_, i) => i);
    expect(chunks(ids).map((c) => c.length)).toEqual([MAX_IN_LIST, MAX_IN_LIST, 3]);
    expect(chunks([])).toEqual([]);
    const seen: number[] = [];
    const out = await inBatches(ids, async (c) => {
      seen.push(c.length);
      return c.map((x) => x * 2);
    });
    expect(seen.every((n) => n <= MAX_IN_LIST)).toBe(true);
    expect(out).toEqual(ids.map((x) => x * 2));
  });
});
