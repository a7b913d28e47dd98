import { describe, expect, it } from "vitest";
import { scopeEntryCovers, withinScope } from "./scope";

describe("scope", () => {
  it.each([
    ["src", "src/a.ts", true],
    ["src/", "src/deep/a.ts", true],
    ["src", "srcx/a.ts", false],
    ["README.md", "README.md", true],
    ["./docs", "docs/x.md", true],
    ["src/*.ts", "src/a.ts", true],
    ["src/*.ts", "src/deep/a.ts", false],
    ["src/**/*.ts", "src/a.ts", true],
    ["src/**/*.ts", "src/deep/er/a.ts", true],
    ["src/**/*.ts", "lib/a.ts", false],
    ["a?.js", "ab.js", true],
    ["a.b", "aXb", false],
  ])("%s covers %s: %s", (entry, file, expected) => {
    expect(scopeEntryCovers(entry, file)).toBe(expected);
  });
  it("no scope is unknown; otherwise lists what is outside", () => {
    expect(withinScope([], ["a"])).toBeNull();
    expect(withinScope(["src"], ["src/a", "b"])).toEqual({ within: false, outside: ["b"] });
    expect(withinScope(["src", "b"], ["src/a", "b"])).toEqual({ within: true, outside: [] });
  });
});
