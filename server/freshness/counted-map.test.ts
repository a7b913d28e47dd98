import { describe, expect, it } from "vitest";
import { CountedMap } from "./counted-map";

describe("CountedMap", () => {
  it("counts every write that changes it, and no read or no-op", () => {
    const m = new CountedMap<string, number>();
    m.set("a", 1);
    m.set("a", 2); // a write, even of a key already there
    expect(m.changes).toBe(2);
    m.get("a");
    m.has("b");
    expect(m.delete("b")).toBe(false); // nothing to delete: not a change
    expect(m.changes).toBe(2);
    expect(m.delete("a")).toBe(true);
    m.clear(); // already empty
    expect(m.changes).toBe(3);
    m.set("c", 3);
    m.clear();
    expect(m.changes).toBe(5);
    expect(m.size).toBe(0);
  });
});
