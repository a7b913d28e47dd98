import { describe, expect, it } from "vitest";
import { ansiLineToHtml, visibleText } from "./ansi";

describe("ansiLineToHtml", () => {
  it("escapes markup in process output", () => {
    const html = ansiLineToHtml(`<img src=x onerror="alert(1)"> & 'q'`);
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &apos;q&apos;");
  });

  it("escapes markup inside coloured spans too", () => {
    const html = ansiLineToHtml("\x1b[31m<script>alert(1)</script>\x1b[0m");
    expect(html).toMatch(/^<span style="color:#[0-9a-f]{6}">&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/span>$/i);
  });

  it("renders 256-colour and truecolour codes as inline styles only", () => {
    const html = ansiLineToHtml("\x1b[38;5;208morange\x1b[38;2;1;2;3mrgb");
    expect(html).toContain('style="color:#ff8700"');
    expect(html).toContain("color:#010203");
  });
});

describe("visibleText", () => {
  it("keeps what follows the last carriage return, ignoring a CRLF's CR", () => {
    expect(visibleText("10%\r50%\r100%")).toBe("100%");
    expect(visibleText("done\r")).toBe("done");
    expect(visibleText("plain")).toBe("plain");
  });
});
