import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./testing/server-process";
import { withoutSourceMapComment } from "./dependency-source-maps";

describe("withoutSourceMapComment", () => {
  it("removes a source map comment on a line of its own, in either spelling", () => {
    expect(withoutSourceMapComment("a();\n//# sourceMappingURL=a.js.map\n")).toBe("a();\n\n");
    expect(withoutSourceMapComment("a();\n//@ sourceMappingURL=data:application/json;base64,e30=")).toBe("a();\n");
  });

  it("keeps the same text inside code, and code without any as it is", () => {
    const code = 'const s = "//# sourceMappingURL=x.map";\nb();';
    expect(withoutSourceMapComment(code)).toBe(code);
    expect(withoutSourceMapComment("c();\n")).toBe("c();\n");
  });
});

/**
 * A real Node process started as the server is (`--import tsx`), importing the hook the way
 * server/main.ts does, then a dependency that ships a source map (luxon, CommonJS, with
 * luxon.js.map beside it) and a TypeScript module of ours that throws.
 */
describe("a server process with the hook", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-source-maps-"));
    // Types spread over lines: tsx's output has fewer lines, so only a mapped stack names line 9.
    await writeFile(
      path.join(dir, "thrower.ts"),
      ["interface Shape {", "  a: string;", "  b: number;", "}", "type Other = {", "  c: Shape;", "};", "export function boom(x: Other | null): never {", '  throw new Error(`boom ${x === null ? "" : x.c.a}`);', "}", ""].join("\n"),
    );
    await writeFile(
      path.join(dir, "probe.mts"),
      [
        `import ${JSON.stringify(pathToFileURL(path.join(REPO_ROOT, "server/dependency-source-maps.ts")).href)};`,
        'import { createRequire, findSourceMap } from "node:module";',
        `const require = createRequire(${JSON.stringify(path.join(REPO_ROOT, "package.json"))});`,
        'const luxon = require.resolve("luxon");',
        "require(luxon);",
        `const { boom } = await import(${JSON.stringify(pathToFileURL(path.join(dir, "thrower.ts")).href)});`,
        "let stack = '';",
        "try { boom(null); } catch (e) { stack = e.stack; }",
        "console.log(JSON.stringify({ luxonMapped: findSourceMap(luxon) !== undefined, stack }));",
      ].join("\n"),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("reads no map of a dependency, and still maps our TypeScript lines", async () => {
    const { stdout } = await execa(process.execPath, ["--import", "tsx", path.join(dir, "probe.mts")], { cwd: REPO_ROOT });
    const out = JSON.parse(stdout) as { luxonMapped: boolean; stack: string };
    expect(out.luxonMapped).toBe(false);
    expect(out.stack).toContain(`${path.join(dir, "thrower.ts")}:9:`);
  });

  it("without the hook, the same dependency's map is read (what the hook saves)", async () => {
    const probe = path.join(dir, "probe-plain.mts");
    const { readFile } = await import("node:fs/promises");
    await writeFile(probe, (await readFile(path.join(dir, "probe.mts"), "utf8")).split("\n").slice(1).join("\n"));
    const { stdout } = await execa(process.execPath, ["--import", "tsx", probe], { cwd: REPO_ROOT });
    expect((JSON.parse(stdout) as { luxonMapped: boolean }).luxonMapped).toBe(true);
  });
});
