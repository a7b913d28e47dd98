/**
 * parseTaskPacket keeps what it parsed by the stored text: the same text gives the same (frozen)
 * packet without zod, another text its own, a bad text throws every time, and only the last
 * PACKETS_KEPT texts are kept.
 */
import { describe, expect, it } from "vitest";
import { PACKETS_KEPT, parseTaskPacket } from "./lane-store";

const text = (objective: string) => JSON.stringify({ objective, repo: "r1", baseBranch: "main", branch: "lane/a", worker: { engine: "shell", command: ["true"] } });

describe("parseTaskPacket", () => {
  it("answers the same text with the same packet, defaults applied, frozen to its depths", () => {
    const first = parseTaskPacket(text("same"));
    expect(first).toMatchObject({ objective: "same", scope: [], acceptance: [], worker: { engine: "shell", command: ["true"] } });
    expect(parseTaskPacket(text("same"))).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.worker) && Object.isFrozen(first.scope)).toBe(true);
    expect(() => {
      (first.worker as { engine: string }).engine = "claude";
    }).toThrow(TypeError);
  });

  it("gives another text its own packet, and throws for a bad text each time (nothing kept)", () => {
    expect(parseTaskPacket(text("one")).objective).toBe("one");
    expect(parseTaskPacket(text("two")).objective).toBe("two");
    const bad = JSON.stringify({ objective: "", repo: "r1", branch: "lane/a", worker: { engine: "shell", command: ["true"] } });
    expect(() => parseTaskPacket(bad)).toThrow(/objective/);
    expect(() => parseTaskPacket(bad)).toThrow(/objective/);
    expect(() => parseTaskPacket("{not json")).toThrow(SyntaxError);
  });

  it("keeps only the last PACKETS_KEPT texts, the least recently read going first", () => {
    const first = parseTaskPacket(text("lru-0"));
    const second = parseTaskPacket(text("lru-1"));
    for (let i = 2; i <= PACKETS_KEPT; i++) {
      parseTaskPacket(text(`lru-${i}`));
      parseTaskPacket(text("lru-1")); // read again and again: stays
    }
    expect(parseTaskPacket(text("lru-1"))).toBe(second);
    const again = parseTaskPacket(text("lru-0"));
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
