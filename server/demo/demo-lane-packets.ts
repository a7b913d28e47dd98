/**
 * The demo's lanes: task packets for the deterministic `script` engine that really edit, commit
 * and test the demo repository (./create-demo-repo.ts), chosen so that within a minute the
 * board shows every interesting lane condition:
 *
 * | branch | what happens | board |
 * | --- | --- | --- |
 * | lane/docs-usage | writes docs, commits, tests pass; main then moves on (startDemo) | green, behind main by 1 |
 * | lane/add-clamp | adds `clamp` + tests, commits, tests pass | green |
 * | lane/round-discounts-down | introduces a real rounding bug, commits; tests fail | red |
 * | lane/search-index | commits, then prints coloured progress every 400 ms for 10 min | running, live output |
 * | lane/format-prices | adds `formatPrice` + tests | queued behind the worker cap of 4, then green |
 *
 * Every argv starts with `node` (found on PATH in the worker's environment), never an absolute
 * path of this machine, so the packets stay replayable elsewhere.
 */
import type { TaskPacketInput } from "@/lib/task-packet";
import { DEMO_FILES } from "./create-demo-repo";

/** Branches of the demo lanes, by the condition each one shows. */
export const DEMO_BRANCHES = {
  behind: "lane/docs-usage",
  green: "lane/add-clamp",
  red: "lane/round-discounts-down",
  running: "lane/search-index",
  queued: "lane/format-prices",
} as const;

type Step = NonNullable<TaskPacketInput["worker"]["script"]>[number];

const NODE_TEST = ["node", "--test"];
const ACCEPTANCE: TaskPacketInput["acceptance"] = [{ level: "targeted", argv: NODE_TEST }];

/** ANSI SGR colours for the agent's narration, so the board's log view has colour to render. */
const c = {
  cyan: (s: string) => `\u001b[1;36m${s}\u001b[0m`,
  yellow: (s: string) => `\u001b[33m${s}\u001b[0m`,
  red: (s: string) => `\u001b[31m${s}\u001b[0m`,
  dim: (s: string) => `\u001b[2m${s}\u001b[0m`,
};

function packet(repoId: string, branch: string, objective: string, scope: string[], script: Step[]): TaskPacketInput {
  return {
    objective,
    repo: repoId,
    baseBranch: "main",
    branch,
    scope,
    worker: { engine: "script", script },
    acceptance: ACCEPTANCE,
  };
}

const USAGE_DOC = `# Using the price helpers

\`\`\`js
import { applyDiscount, addTax } from "./src/price.js";
applyDiscount(2000, 25); // 1500 cents
addTax(1000, 19); // 1190 cents
\`\`\`

Prices are integers in cents; results are rounded to the nearest cent.
`;

const CLAMP_SOURCE = `
/** Limit value to the range [min, max]. */
export function clamp(value, min, max) {
  if (min > max) throw new RangeError("min must not exceed max");
  return Math.min(max, Math.max(min, value));
}
`;

const CLAMP_TEST = `import assert from "node:assert/strict";
import { test } from "node:test";
import { clamp } from "../src/math.js";

test("clamp keeps values inside the range", () => {
  assert.equal(clamp(5, 0, 10), 5);
  assert.equal(clamp(-3, 0, 10), 0);
  assert.equal(clamp(42, 0, 10), 10);
});

test("clamp rejects an empty range", () => {
  assert.throws(() => clamp(1, 5, 0), RangeError);
});
`;

/** src/price.js with the bug the red lane introduces: discounts round down, not to nearest. */
export const BUGGY_PRICE_SOURCE = (DEMO_FILES["src/price.js"] ?? "")
  .replace("after a percentage discount, rounded to the nearest cent", "after a percentage discount, rounded down to whole cents")
  .replace("return Math.round((cents * (100 - percent)) / 100);", "return Math.floor((cents * (100 - percent)) / 100);");

const SEARCH_SOURCE = `/** Index product names by lowercase word for prefix search. */
export function buildIndex(names) {
  const index = new Map();
  for (const name of names) {
    for (const word of name.toLowerCase().split(/\\W+/).filter(Boolean)) {
      if (!index.has(word)) index.set(word, new Set());
      index.get(word).add(name);
    }
  }
  return index;
}
`;

const FORMAT_SOURCE = `/** "EUR 12.34" for 1234 cents. */
export function formatPrice(cents, currency) {
  const sign = cents < 0 ? "-" : "";
  return \`\${currency} \${sign}\${(Math.abs(cents) / 100).toFixed(2)}\`;
}
`;

const FORMAT_TEST = `import assert from "node:assert/strict";
import { test } from "node:test";
import { formatPrice } from "../src/format.js";

test("formatPrice shows two decimals and the currency", () => {
  assert.equal(formatPrice(1234, "EUR"), "EUR 12.34");
  assert.equal(formatPrice(5, "USD"), "USD 0.05");
  assert.equal(formatPrice(-250, "EUR"), "EUR -2.50");
});
`;

/** Progress of the long-running lane: 1500 lines, 400 ms apart (10 minutes). */
export const RUNNING_LANE_PROGRESS = { count: 1500, intervalMs: 400 } as const;

/**
 * The demo lanes for the registered demo repo `repoId`, in the order {@link startDemo} creates
 * them: the lane that ends up behind main first (main moves on right after it is created, before
 * any other lane branches), then green, red, running, and the fifth lane that queues behind the
 * default worker cap of 4.
 */
export function demoLanePackets(repoId: string): TaskPacketInput[] {
  return [
    packet(repoId, DEMO_BRANCHES.behind, "Document the price helpers in docs/usage.md", ["docs/usage.md"], [
      { op: "say", text: `${c.cyan("plan")} document applyDiscount and addTax` },
      { op: "write", path: "docs/usage.md", content: USAGE_DOC },
      { op: "commit", message: "Document the price helpers" },
      { op: "run", argv: NODE_TEST },
    ]),
    packet(repoId, DEMO_BRANCHES.green, "Add clamp(value, min, max) to src/math.js with tests", ["src/math.js", "test/clamp.test.js"], [
      { op: "say", text: `${c.cyan("plan")} add clamp() next to sum() and mean()` },
      { op: "progress", count: 5, intervalMs: 300, text: `reading ${c.dim("src/math.js")}` },
      { op: "append", path: "src/math.js", content: CLAMP_SOURCE },
      { op: "write", path: "test/clamp.test.js", content: CLAMP_TEST },
      { op: "commit", message: "Add clamp() with tests" },
      { op: "run", argv: NODE_TEST },
    ]),
    packet(repoId, DEMO_BRANCHES.red, "Round discounted prices down to whole cents", ["src/price.js"], [
      { op: "say", text: `${c.cyan("plan")} switch applyDiscount from Math.round to Math.floor` },
      { op: "progress", count: 4, intervalMs: 300, text: `reading ${c.dim("src/price.js")}` },
      { op: "write", path: "src/price.js", content: BUGGY_PRICE_SOURCE },
      { op: "commit", message: "Round discounts down to whole cents" },
      { op: "run", argv: NODE_TEST, allowFailure: true },
      { op: "say", text: `${c.red("tests fail")} applyDiscount(999, 50) is now 499; leaving it for review` },
    ]),
    packet(repoId, DEMO_BRANCHES.running, "Build a search index over product names", ["src/search.js"], [
      { op: "say", text: `${c.cyan("plan")} index product names by word, then verify on the full catalogue` },
      { op: "write", path: "src/search.js", content: SEARCH_SOURCE },
      { op: "commit", message: "Start the search index" },
      { op: "progress", ...RUNNING_LANE_PROGRESS, text: `${c.yellow("indexing")} product catalogue ${c.dim("(batch of 200)")}` },
      { op: "run", argv: NODE_TEST },
    ]),
    packet(repoId, DEMO_BRANCHES.queued, "Add formatPrice(cents, currency) with tests", ["src/format.js", "test/format.test.js"], [
      { op: "say", text: `${c.cyan("plan")} add formatPrice() for receipts` },
      { op: "progress", count: 10, intervalMs: 300, text: "checking currency formats" },
      { op: "write", path: "src/format.js", content: FORMAT_SOURCE },
      { op: "write", path: "test/format.test.js", content: FORMAT_TEST },
      { op: "commit", message: "Add formatPrice() with tests" },
      { op: "run", argv: NODE_TEST },
    ]),
  ];
}
