/**
 * The demo repository: a real git repository holding a tiny Node project (slugify, prices, math)
 * whose tests run with `node --test` and pass on `main`. Lanes of the demo edit it.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { AppError } from "@/lib/errors";
import { git } from "../git/runner";

/** `name` in the demo's package.json; how Laneboard recognises a demo repository it made. */
export const DEMO_PACKAGE_NAME = "laneboard-demo";

/** Identity of commits Laneboard makes in the demo repo (also its local git config). */
export const DEMO_IDENTITY = { name: "Laneboard Demo", email: "demo@laneboard.invalid" } as const;

/** `git -c` options making a commit as {@link DEMO_IDENTITY} without any global config. */
export const DEMO_GIT_IDENTITY_ARGS = ["-c", `user.name=${DEMO_IDENTITY.name}`, "-c", `user.email=${DEMO_IDENTITY.email}`, "-c", "commit.gpgsign=false"];

/** The demo project's files on `main`, by relative path. */
export const DEMO_FILES: Readonly<Record<string, string>> = {
  "package.json": `${JSON.stringify({ name: DEMO_PACKAGE_NAME, version: "1.0.0", private: true, type: "module", scripts: { test: "node --test" } }, null, 2)}\n`,
  "README.md": "# Laneboard demo shop\n\nA tiny Node project that Laneboard's demo lanes work on. Run the tests with `npm test`.\n",
  ".gitignore": "node_modules/\n",
  "src/slugify.js": `/** Turn a title into a URL slug: "Hello, World!" → "hello-world". */
export function slugify(text) {
  return text
    .normalize("NFKD")
    .replace(/[\\u0300-\\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}
`,
  "src/price.js": `/** Price in cents after a percentage discount, rounded to the nearest cent. */
export function applyDiscount(cents, percent) {
  if (percent < 0 || percent > 100) throw new RangeError("percent must be between 0 and 100");
  return Math.round((cents * (100 - percent)) / 100);
}

/** Price in cents with tax added, rounded to the nearest cent. */
export function addTax(cents, ratePercent) {
  return Math.round((cents * (100 + ratePercent)) / 100);
}
`,
  "src/math.js": `/** Sum of a list of numbers (0 for an empty list). */
export function sum(values) {
  return values.reduce((total, v) => total + v, 0);
}

/** Arithmetic mean; NaN for an empty list. */
export function mean(values) {
  return values.length === 0 ? NaN : sum(values) / values.length;
}
`,
  "test/slugify.test.js": `import assert from "node:assert/strict";
import { test } from "node:test";
import { slugify } from "../src/slugify.js";

test("slugify lowercases and joins words with dashes", () => {
  assert.equal(slugify("Hello, World!"), "hello-world");
});

test("slugify drops accents and trims dashes", () => {
  assert.equal(slugify("  Crème Brûlée  "), "creme-brulee");
});
`,
  "test/price.test.js": `import assert from "node:assert/strict";
import { test } from "node:test";
import { addTax, applyDiscount } from "../src/price.js";

test("applyDiscount rounds half a cent up", () => {
  assert.equal(applyDiscount(999, 50), 500);
});

test("applyDiscount keeps whole cents", () => {
  assert.equal(applyDiscount(2000, 25), 1500);
});

test("applyDiscount rejects percentages outside 0..100", () => {
  assert.throws(() => applyDiscount(100, 120), RangeError);
});

test("addTax rounds to the nearest cent", () => {
  assert.equal(addTax(1000, 19), 1190);
  assert.equal(addTax(999, 7), 1069);
});
`,
  "test/math.test.js": `import assert from "node:assert/strict";
import { test } from "node:test";
import { mean, sum } from "../src/math.js";

test("sum adds numbers", () => {
  assert.equal(sum([1, 2, 3.5]), 6.5);
  assert.equal(sum([]), 0);
});

test("mean averages numbers", () => {
  assert.equal(mean([2, 4]), 3);
  assert.ok(Number.isNaN(mean([])));
});
`,
};

/** Whether `dir` holds a demo repository made by {@link createDemoRepo}. */
export async function isDemoRepo(dir: string): Promise<boolean> {
  try {
    const pkg = JSON.parse(await fs.readFile(path.join(dir, "package.json"), "utf8")) as { name?: unknown };
    if (pkg.name !== DEMO_PACKAGE_NAME) return false;
    await fs.access(path.join(dir, ".git"));
    const res = await git(["show-ref", "--verify", "--quiet", "refs/heads/main"], { cwd: dir, allowFailure: true });
    return res.exitCode === 0;
  } catch {
    return false;
  }
}

/**
 * Create the demo repository at `dir` (created if missing): branch `main`, one commit by
 * {@link DEMO_IDENTITY} holding {@link DEMO_FILES}, local config with that identity so commits
 * in its worktrees need no global config. Idempotent: a demo repository already at `dir` is
 * returned as it is (including commits made since).
 *
 * @returns the realpath of the repository.
 * @throws AppError `conflict` if `dir` exists, is not empty and is not a demo repository.
 */
export async function createDemoRepo(dir: string): Promise<string> {
  const abs = path.resolve(dir);
  if (await isDemoRepo(abs)) return fs.realpath(abs);
  await fs.mkdir(abs, { recursive: true });
  if ((await fs.readdir(abs)).length > 0) {
    throw new AppError("conflict", `cannot create the demo repository in ${abs}: the directory is not empty`);
  }
  for (const [rel, content] of Object.entries(DEMO_FILES)) {
    await fs.mkdir(path.dirname(path.join(abs, rel)), { recursive: true });
    await fs.writeFile(path.join(abs, rel), content);
  }
  const run = (args: string[]) => git(args, { cwd: abs });
  await run(["init", "--quiet", "--initial-branch=main"]);
  await run(["config", "user.name", DEMO_IDENTITY.name]);
  await run(["config", "user.email", DEMO_IDENTITY.email]);
  await run(["config", "commit.gpgsign", "false"]);
  await run(["add", "--all"]);
  await run([...DEMO_GIT_IDENTITY_ARGS, "commit", "--quiet", "-m", "Demo shop: slugify, prices and math with tests"]);
  return fs.realpath(abs);
}
