/**
 * Pass/fail/skip counts from a check's output, for the formats test runners actually print.
 * Pure: text in, counts out. Formats (checked against real captures in `fixtures/`, see its
 * README for the commands):
 *
 * | format      | what is read                                                                  |
 * | ----------- | ----------------------------------------------------------------------------- |
 * | `junit`     | JUnit XML (`<testsuites>`/`<testsuite>`/`<testcase>`), parsed with fast-xml-parser |
 * | `node-test` | `node --test` summary: `# pass N` (tap) or `ℹ pass N` (spec), with `cancelled`/`suites` |
 * | `vitest`    | `Tests  1 failed \| 3 passed \| 1 skipped \| 1 todo (6)`                        |
 * | `jest`      | `Tests:       1 failed, 1 skipped, 1 todo, 4 passed, 7 total`                   |
 * | `pytest`    | `=== 1 failed, 3 passed, 1 skipped, 1 xfailed in 2.32s ===` (and `-q`'s bare line) |
 * | `cargo`     | `test result: FAILED. 1 passed; 1 failed; 1 ignored; …` (summed over binaries) |
 * | `go`        | `go test -v`: top-level `--- PASS/FAIL/SKIP:` lines (needs `=== RUN` lines)     |
 * | `mocha`     | spec reporter's `3 passing` / `1 failing` / `2 pending`                        |
 * | `tap`       | TAP 13/14 (testanything.org): top-level `ok`/`not ok` points, `# SKIP`/`# TODO`, plan |
 *
 * Conventions across formats: `skipped` counts everything not run to a verdict (skip, todo,
 * pending, ignored, xfail); `failed` includes errors and cancellations; `total = passed +
 * failed + skipped`. Counts are summed when a summary appears more than once (e.g. `npm test`
 * running two suites). Without `-v`, `go test` prints no per-test lines for passing tests, so it
 * is not counted (null) rather than reported as "0 passed".
 */
import { stripVTControlCharacters } from "node:util";
import { XMLParser, XMLValidator } from "fast-xml-parser";

export const TEST_SUMMARY_FORMATS = ["tap", "junit", "node-test", "vitest", "jest", "mocha", "pytest", "go", "cargo"] as const;
export type TestSummaryFormat = (typeof TEST_SUMMARY_FORMATS)[number];

export interface TestSummary {
  format: TestSummaryFormat;
  passed: number;
  failed: number;
  skipped: number;
  total: number;
}

type Counts = Omit<TestSummary, "format" | "total">;

/**
 * Recognize the first format (in the order of the table above; the most specific first, since
 * node's TAP output is also TAP and vitest's lines contain words jest uses) and count.
 * ANSI escapes are stripped first. @returns null when no known summary is found.
 */
export function summarizeTestOutput(output: string): TestSummary | null {
  const text = stripVTControlCharacters(output);
  const lines = text.split(/\r?\n/);
  for (const [format, parse] of PARSERS) {
    const counts = parse(text, lines);
    if (counts) return { format, ...counts, total: counts.passed + counts.failed + counts.skipped };
  }
  return null;
}

type Parser = (text: string, lines: string[]) => Counts | null;

const zero = (): Counts => ({ passed: 0, failed: 0, skipped: 0 });

/** `"1 failed, 3 passed"` → [[1, "failed"], [3, "passed"]] for a separator of "," or "|". */
function countPhrases(list: string): Array<[number, string]> {
  return [...list.matchAll(/(\d+)\s+([a-z]+)/gi)].map((m) => [Number(m[1]), m[2]!.toLowerCase()]);
}

/** Add phrase counts into buckets by word; words not in the map (e.g. "warnings") are ignored. */
function addPhrases(into: Counts, list: string, buckets: Record<string, keyof Counts>): void {
  for (const [n, word] of countPhrases(list)) {
    const bucket = buckets[word];
    if (bucket) into[bucket] += n;
  }
}

/** Run `re` over every line; call `add` per match; null if nothing matched. */
function sumLines(lines: string[], re: RegExp, add: (into: Counts, m: RegExpMatchArray) => void): Counts | null {
  const counts = zero();
  let seen = false;
  for (const line of lines) {
    const m = line.match(re);
    if (!m) continue;
    seen = true;
    add(counts, m);
  }
  return seen ? counts : null;
}

const parseJunit: Parser = (text) => {
  const start = text.search(/<\?xml|<testsuites?[\s>]/);
  if (start < 0) return null;
  const xml = text.slice(start);
  if (XMLValidator.validate(xml) !== true) return null;
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", parseAttributeValue: false, isArray: (_name, _path, _leaf, isAttribute) => !isAttribute });
  const doc = parser.parse(xml) as Record<string, unknown>;
  const counts = zero();
  let cases = 0;
  // Count <testcase> elements wherever they sit: node's reporter puts some directly under
  // <testsuites> and gives the root no attributes; a verdict child decides each case.
  walk(doc, (name, node) => {
    if (name !== "testcase") return;
    cases++;
    if (node.failure || node.error) counts.failed++;
    else if (node.skipped) counts.skipped++;
    else counts.passed++;
  });
  if (cases > 0) return counts;
  // No cases listed (an aggregated report): fall back to the suites' attributes.
  let suites = 0;
  walk(doc, (name, node) => {
    if (name !== "testsuite") return;
    suites++;
    const n = (k: string) => Number((node[k] as string | undefined) ?? 0) || 0;
    counts.failed += n("failures") + n("errors");
    counts.skipped += n("skipped") + n("disabled");
    counts.passed += Math.max(0, n("tests") - n("failures") - n("errors") - n("skipped") - n("disabled"));
  });
  return suites > 0 ? counts : null;
};

type XmlNode = Record<string, unknown>;

/** Depth-first over a fast-xml-parser tree (every element is an array; see `isArray` above). */
function walk(node: XmlNode, visit: (name: string, node: XmlNode) => void): void {
  for (const [name, value] of Object.entries(node)) {
    if (!Array.isArray(value)) continue;
    for (const child of value) {
      // An element with neither attributes nor children parses as "": still an element.
      const el = child && typeof child === "object" ? (child as XmlNode) : {};
      visit(name, el);
      walk(el, visit);
    }
  }
}

const parseNodeTest: Parser = (_text, lines) => {
  const re = /^(?:#|ℹ) (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/;
  const found = new Map<string, number>();
  for (const line of lines) {
    const m = line.trim().match(re);
    if (m) found.set(m[1]!, (found.get(m[1]!) ?? 0) + Number(m[2]));
  }
  // `cancelled`/`suites` tell node's summary apart from tape's and mocha's `# pass N`.
  if (!found.has("pass") || !found.has("fail") || !(found.has("cancelled") || found.has("suites"))) return null;
  const get = (k: string) => found.get(k) ?? 0;
  return { passed: get("pass"), failed: get("fail") + get("cancelled"), skipped: get("skipped") + get("todo") };
};

const parseVitest: Parser = (_text, lines) =>
  sumLines(lines, /^\s*Tests\s{2,}(.+?)\s*\(\d+\)\s*$/, (c, m) => addPhrases(c, m[1]!, { passed: "passed", failed: "failed", skipped: "skipped", todo: "skipped" }));

const parseJest: Parser = (_text, lines) =>
  sumLines(lines, /^Tests:\s+(.+?),\s*\d+ total\s*$/, (c, m) => addPhrases(c, m[1]!, { passed: "passed", failed: "failed", skipped: "skipped", todo: "skipped" }));

const PYTEST_WORDS = { passed: "passed", xpassed: "passed", failed: "failed", error: "failed", errors: "failed", skipped: "skipped", xfailed: "skipped" } as const;
const parsePytest: Parser = (_text, lines) =>
  sumLines(
    lines,
    /^=*\s*((?:\d+ (?:passed|failed|skipped|deselected|xfailed|xpassed|errors?|warnings?|rerun)(?:, )?)+) in [\d.]+s\b/,
    (c, m) => addPhrases(c, m[1]!, PYTEST_WORDS),
  );

const parseCargo: Parser = (_text, lines) =>
  sumLines(lines, /^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored;/, (c, m) => {
    c.passed += Number(m[1]);
    c.failed += Number(m[2]);
    c.skipped += Number(m[3]);
  });

const parseGo: Parser = (_text, lines) => {
  if (!lines.some((l) => l.startsWith("=== RUN"))) return null;
  // Only unindented lines: subtests are indented under their parent and counted by it.
  return sumLines(lines, /^--- (PASS|FAIL|SKIP): /, (c, m) => {
    c[m[1] === "PASS" ? "passed" : m[1] === "FAIL" ? "failed" : "skipped"]++;
  });
};

const parseMocha: Parser = (_text, lines) => {
  const counts = sumLines(lines, /^\s+(\d+) (passing|failing|pending)\b/, (c, m) => {
    c[m[2] === "passing" ? "passed" : m[2] === "failing" ? "failed" : "skipped"] += Number(m[1]);
  });
  // "N passing (9ms)" is always printed; a lone "pending" line is not a mocha summary.
  return counts && lines.some((l) => /^\s+\d+ passing \(/.test(l)) ? counts : null;
};

const parseTap: Parser = (_text, lines) => {
  const hasVersion = lines.some((l) => /^TAP version 1[34]\s*$/.test(l));
  const planLine = lines.find((l) => /^1\.\.\d+/.test(l));
  if (!hasVersion && !planLine) return null;
  const counts = zero();
  let points = 0;
  for (const line of lines) {
    // Unindented points only: TAP 14 subtests are indented and summarized by their parent.
    const m = line.match(/^(not )?ok\b(.*)$/);
    if (!m) continue;
    points++;
    const directive = m[2]!.match(/#\s*(skip|todo)\b/i);
    if (directive) counts.skipped++;
    else if (m[1]) counts.failed++;
    else counts.passed++;
  }
  // Planned points that never came (a crash or `Bail out!`) are failures (TAP spec).
  const planned = planLine ? Number(planLine.match(/^1\.\.(\d+)/)![1]) : points;
  if (planned > points) counts.failed += planned - points;
  return points > 0 || planLine ? counts : null;
};

const PARSERS: ReadonlyArray<readonly [TestSummaryFormat, Parser]> = [
  ["junit", parseJunit],
  ["node-test", parseNodeTest],
  ["vitest", parseVitest],
  ["jest", parseJest],
  ["pytest", parsePytest],
  ["cargo", parseCargo],
  ["go", parseGo],
  ["mocha", parseMocha],
  ["tap", parseTap],
];
