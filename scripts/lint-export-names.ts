/**
 * `npm run lint:names` (part of `npm run lint`): fails when two production files export different
 * things under one name (scripts/lib/export-names.ts says what counts). Production files: the
 * tracked `.ts`/`.tsx` files of server/, lib/, app/, components/, client/, cli/ and mcp/, except
 * tests, test helpers (the same pattern as .dependency-cruiser.cjs) and generated code.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { duplicateExportNames } from "./lib/export-names";

const root = path.resolve(import.meta.dirname, "..");
const NOT_PRODUCTION = /(\.test\.tsx?$|\.spec\.tsx?$|\.testing\.tsx?$|\/_?testing\/|\/testdata\/|\/fixtures\/|^server\/store\/generated\/)/;
const listed = execFileSync("git", ["ls-files", "-z", "--", "server", "lib", "app", "components", "client", "cli", "mcp"], { cwd: root, encoding: "utf8" });
const files = listed
  .split("\0")
  .filter((p) => /\.tsx?$/.test(p) && !p.endsWith(".d.ts") && !NOT_PRODUCTION.test(p))
  .map((p) => ({ path: p, text: readFileSync(path.join(root, p), "utf8") }));

const duplicates = duplicateExportNames(files);
for (const [name, places] of duplicates) console.error(`${name} is exported by ${places.length} declarations: ${places.join(", ")}`);
if (duplicates.size > 0) {
  console.error(`✖ ${duplicates.size} exported name(s) used by more than one thing: give each its own name`);
  process.exit(1);
}
console.log(`✔ no exported name used twice (${files.length} files)`);
