import { describe, expect, it } from "vitest";
import { JsonLineReader, MAX_SIGNAL_TEXT, clip } from "./engine-events";

describe("JsonLineReader", () => {
  it("reads objects and skips blank lines", () => {
    const r = new JsonLineReader();
    expect(r.read('{"type":"x","n":1}')).toEqual({ value: { type: "x", n: 1 } });
    expect(r.read("")).toBeNull();
    expect(r.read("   ")).toBeNull();
  });

  it("turns non-JSON, truncated JSON and non-objects into warnings carrying the line", () => {
    const r = new JsonLineReader();
    expect(r.read("Warning: something human")).toEqual({ warning: { kind: "warning", message: expect.stringMatching(/^not JSON/), line: "Warning: something human" } });
    expect(r.read('{"type":"assistant","message":{"con')).toEqual({ warning: { kind: "warning", message: expect.stringMatching(/^truncated or invalid JSON/), line: '{"type":"assistant","message":{"con' } });
    expect(r.read("[1,2]")).toMatchObject({ warning: { message: "JSON line is not an object" } });
    expect(r.read("42")).toMatchObject({ warning: { message: "JSON line is not an object" } });
  });

  it("joins the pieces of a line the supervisor cut at maxPieceBytes", () => {
    const r = new JsonLineReader(16);
    const line = JSON.stringify({ type: "user", text: "é".repeat(20) }); // multi-byte, several pieces
    const pieces = splitOnChars(line, 16);
    expect(pieces.length).toBeGreaterThan(2);
    const results = pieces.map((p) => r.read(p));
    expect(results.slice(0, -1).every((x) => x === null)).toBe(true);
    expect(results.at(-1)).toEqual({ value: { type: "user", text: "é".repeat(20) } });
  });

  it("reports a held piece at the end as truncated, and a short bad line at once", () => {
    const r = new JsonLineReader(16);
    expect(r.read('{"type":"user","t')).toBeNull(); // exactly 16 bytes: may continue
    expect(r.flush()).toEqual([{ kind: "warning", message: "output ended inside a JSON line", line: '{"type":"user","t' }]);
    expect(r.read('{"short')).toMatchObject({ warning: { message: expect.stringMatching(/truncated/) } });
    expect(r.flush()).toEqual([]);
  });
});

describe("clip", () => {
  it("keeps short text and marks cut text", () => {
    expect(clip("abc")).toBe("abc");
    const long = "x".repeat(MAX_SIGNAL_TEXT + 5);
    expect(clip(long)).toBe(`${"x".repeat(MAX_SIGNAL_TEXT)}… (5 more characters)`);
  });
});

/** Split into pieces of at most `max` UTF-8 bytes without cutting a character (as LineSplitter does). */
function splitOnChars(text: string, max: number): string[] {
  const out: string[] = [];
  let cur = "";
  for (const ch of text) {
    if (Buffer.byteLength(cur + ch) > max) {
      out.push(cur);
      cur = "";
    }
    cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}
