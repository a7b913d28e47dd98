import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createBatcher } from "./batch";

describe("createBatcher", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs once per window with every key pushed in it", () => {
    const runs: string[][] = [];
    const b = createBatcher<string>((keys) => runs.push([...keys].sort()), 250);
    for (let i = 0; i < 100; i++) b.push(i % 2 ? "a" : "b");
    expect(runs).toEqual([]);
    vi.advanceTimersByTime(249);
    expect(runs).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(runs).toEqual([["a", "b"]]);
    b.push("c");
    vi.advanceTimersByTime(250);
    expect(runs).toEqual([["a", "b"], ["c"]]);
  });

  it("flush runs now; cancel drops pending keys", () => {
    const runs: string[][] = [];
    const b = createBatcher<string>((keys) => runs.push([...keys]), 250);
    b.push("x");
    b.flush();
    expect(runs).toEqual([["x"]]);
    b.push("y");
    b.cancel();
    vi.advanceTimersByTime(1000);
    expect(runs).toEqual([["x"]]);
    b.flush();
    expect(runs).toEqual([["x"]]);
  });
});
