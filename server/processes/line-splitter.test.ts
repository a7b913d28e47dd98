import { describe, expect, it } from "vitest";
import { LineSplitter, type SplitLine } from "./line-splitter";

/** Push `bytes` cut at every position in `cuts`, then flush; return all lines. */
function split(bytes: Buffer, cuts: number[], opts: { start?: number; max?: number; flush?: boolean } = {}): SplitLine[] {
  const s = new LineSplitter(opts.start ?? 0, opts.max);
  const out: SplitLine[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    s.push(bytes.subarray(prev, c), out);
    prev = c;
  }
  if (opts.flush !== false) s.flush(out);
  return out;
}

/** Every way of cutting `bytes` into two chunks must give the same lines as one chunk. */
function expectCutInvariant(bytes: Buffer): SplitLine[] {
  const whole = split(bytes, []);
  for (let i = 0; i <= bytes.length; i++) expect(split(bytes, [i])).toEqual(whole);
  // and byte by byte
  expect(split(bytes, Array.from({ length: bytes.length }, (_, i) => i))).toEqual(whole);
  return whole;
}

describe("LineSplitter", () => {
  it("splits on LF with logical offsets, independent of chunk boundaries", () => {
    const lines = expectCutInvariant(Buffer.from("alpha\nbeta\n\ngamma\n"));
    expect(lines).toEqual([
      { offset: 0, text: "alpha" },
      { offset: 6, text: "beta" },
      { offset: 11, text: "" },
      { offset: 12, text: "gamma" },
    ]);
  });

  it("treats CRLF as a terminator even when split between CR and LF, keeps a lone CR", () => {
    const lines = expectCutInvariant(Buffer.from("one\r\ntwo\r\n10%\r50%\r100%\n"));
    expect(lines.map((l) => l.text)).toEqual(["one", "two", "10%\r50%\r100%"]);
    expect(lines.map((l) => l.offset)).toEqual([0, 5, 10]);
  });

  it("keeps ANSI escape sequences intact", () => {
    const red = "\u001b[31mred\u001b[0m";
    const lines = expectCutInvariant(Buffer.from(`${red}\n\u001b[1;32mok\u001b[0m\n`));
    expect(lines.map((l) => l.text)).toEqual([red, "\u001b[1;32mok\u001b[0m"]);
    expect(lines.every((l) => l.raw === undefined)).toBe(true);
  });

  it("decodes multi-byte UTF-8 split across chunks without replacement characters", () => {
    const lines = expectCutInvariant(Buffer.from("héllo wörld ✓ 🚀\nnext\n"));
    expect(lines.map((l) => l.text)).toEqual(["héllo wörld ✓ 🚀", "next"]);
    expect(lines[1]!.offset).toBe(Buffer.byteLength("héllo wörld ✓ 🚀\n"));
  });

  it("keeps invalid UTF-8 as exact bytes in raw (base64) and U+FFFD in text", () => {
    const bad = Buffer.from([0x61, 0xff, 0xfe, 0x62]);
    const bytes = Buffer.concat([Buffer.from("ok\n"), bad, Buffer.from("\nfine\n")]);
    const lines = expectCutInvariant(bytes);
    expect(lines[0]).toEqual({ offset: 0, text: "ok" });
    expect(lines[1]!.text).toBe("a\uFFFD\uFFFDb");
    expect(Buffer.from(lines[1]!.raw!, "base64")).toEqual(bad);
    expect(lines[2]).toEqual({ offset: 8, text: "fine" });
  });

  it("holds a line without trailing newline until flush, and reports consumed/end", () => {
    const s = new LineSplitter(100);
    const out: SplitLine[] = [];
    s.push(Buffer.from("done\npartial"), out);
    expect(out).toEqual([{ offset: 100, text: "done" }]);
    expect(s.consumed).toBe(105);
    expect(s.end).toBe(112);
    s.push(Buffer.from(" more"), out);
    expect(out).toHaveLength(1);
    s.flush(out);
    expect(out[1]).toEqual({ offset: 105, text: "partial more" });
    expect(s.consumed).toBe(117);
    s.flush(out); // nothing pending: no empty line
    expect(out).toHaveLength(2);
  });

  it("copies the partial line, so the caller may reuse its buffer", () => {
    const s = new LineSplitter(0);
    const out: SplitLine[] = [];
    const buf = Buffer.from("abc");
    s.push(buf, out);
    buf.fill(0x7a); // "zzz"
    s.push(Buffer.from("\n"), out);
    expect(out).toEqual([{ offset: 0, text: "abc" }]);
  });

  it("emits an over-long line in pieces on character boundaries, losing nothing", () => {
    const text = "é".repeat(10); // 20 bytes
    const bytes = Buffer.from(text + "\r\n" + "x".repeat(8) + "\r\n" + "y".repeat(7) + "\r\n");
    const whole = split(bytes, [], { max: 7 });
    for (let i = 0; i <= bytes.length; i++) expect(split(bytes, [i], { max: 7 })).toEqual(whole);
    expect(whole.slice(-3).map((l) => l.text)).toEqual(["xxxxxxx", "x", "yyyyyyy"]);
    const lines = whole.slice(0, -3);
    expect(lines.map((l) => l.text).join("")).toBe(text);
    expect(lines.every((l) => l.raw === undefined)).toBe(true);
    expect(lines.every((l) => Buffer.byteLength(l.text) <= 7)).toBe(true);
    expect(lines.map((l) => l.offset)).toEqual(lines.map((_, i) => lines.slice(0, i).reduce((n, x) => n + Buffer.byteLength(x.text), 0)));
  });

  it("reset forgets the partial line and continues at a new offset", () => {
    const s = new LineSplitter(0);
    const out: SplitLine[] = [];
    s.push(Buffer.from("gone"), out);
    s.reset(50);
    s.push(Buffer.from("new\n"), out);
    expect(out).toEqual([{ offset: 50, text: "new" }]);
  });
});
