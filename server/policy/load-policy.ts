/**
 * Reading a policy file (YAML, or JSON, which the YAML parser reads too) into validated rules,
 * with every error pointing at its line and column (1-based) — both YAML syntax errors and schema
 * errors, whose zod issue path is mapped back to the YAML node it came from.
 *
 * Parser: `yaml` (eemeli/yaml 2.x) with a LineCounter; node ranges are character offsets.
 */
import { promises as fsp } from "node:fs";
import { isMap, isNode, isPair, isScalar, Lexer, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { DEFAULT_POLICY_RULES } from "./default-rules";
import { PolicyFileSchema, type PolicyFile, type PolicyRule } from "./policy-schema";

export interface PolicyIssue {
  /** 1-based; 0 when the problem is not in the text (e.g. the file cannot be read). */
  line: number;
  column: number;
  message: string;
  /** Where in the document, e.g. `rules[2].then.action`; empty for syntax errors. */
  path: string;
}

export type PolicyLoadResult =
  | { ok: true; rules: PolicyRule[]; file: PolicyFile | null; source: "file" | "defaults" }
  | { ok: false; errors: PolicyIssue[] };

/** Where a repo's policy file is looked for, relative to the repo root, in this order. */
export const POLICY_FILE_NAMES = [".laneboard/policy.yaml", ".laneboard/policy.yml", ".laneboard/policy.json"] as const;

/** Max policy text size in characters; larger text is rejected, not parsed. */
export const MAX_POLICY_CHARS = 256 * 1024;

/**
 * Deepest nesting a policy may have. The schema needs five levels; the YAML parser runs out of
 * memory (a process crash, not an exception) on a few thousand (`[[[[…` or `? ? ? …`).
 */
export const MAX_POLICY_NESTING = 64;

/**
 * An upper-bound estimate of how deep `text` nests, from the YAML lexer's tokens (so brackets
 * and dashes inside quoted strings and comments do not count), before anything is parsed: open
 * flow collections (`[`, `{`), plus the stack of increasing indentations of block lines, plus
 * the compact block indicators (`- `, `? `) on the current line. Linear time; stops past `limit`.
 */
export function policyNesting(text: string, limit: number): number {
  let flow = 0;
  let max = 0;
  let onLine = 0;
  let lineStart = true;
  const indents: number[] = [];
  for (const token of new Lexer().lex(text)) {
    if (token === "\n" || token === "\r\n") {
      lineStart = true;
      onLine = 0;
      continue;
    }
    if (lineStart) {
      lineStart = false;
      const indent = /^ +$/.test(token) ? token.length : 0;
      while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      if (indent > 0) continue;
    }
    if (token === "[" || token === "{") flow++;
    else if ((token === "]" || token === "}") && flow > 0) flow--;
    else if (token === "-" || token === "?") onLine++;
    max = Math.max(max, flow + indents.length + onLine);
    if (max > limit) break;
  }
  return max;
}

/**
 * Parse and validate policy text. With `includeDefaults: true`, the default rules follow the
 * file's rules, minus any whose id the file redefines. Never throws.
 */
export function parsePolicyText(text: string, defaults: readonly PolicyRule[] = DEFAULT_POLICY_RULES): PolicyLoadResult {
  if (text.length > MAX_POLICY_CHARS) return { ok: false, errors: [{ line: 1, column: 1, path: "", message: `policy text is larger than ${MAX_POLICY_CHARS} characters` }] };
  if (policyNesting(text, MAX_POLICY_NESTING) > MAX_POLICY_NESTING) {
    return { ok: false, errors: [{ line: 1, column: 1, path: "", message: `policy nests deeper than ${MAX_POLICY_NESTING} levels` }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return { line, column: col, path: "", message: e.message };
      }),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    return { ok: false, errors: [{ line: 1, column: 1, path: "", message: err instanceof Error ? err.message : String(err) }] };
  }
  const parsed = PolicyFileSchema.safeParse(value);
  if (!parsed.success) {
    // zod skips the schema's duplicate-id refinement while other issues exist; report them all at once.
    const issues = [...parsed.error.issues, ...duplicateIdIssues(value)];
    const errors = uniqueBy(issues.map((issue) => issueAt(doc, lineCounter, issue)), (e) => `${e.path}\0${e.message}`);
    errors.sort((a, b) => a.line - b.line || a.column - b.column);
    return { ok: false, errors };
  }
  const file = parsed.data;
  const own = new Set(file.rules.map((r) => r.id));
  const rules = file.includeDefaults ? [...file.rules, ...defaults.filter((r) => !own.has(r.id))] : file.rules;
  return { ok: true, rules, file, source: "file" };
}

/**
 * Read and parse a policy file. A missing file means the defaults (`source: "defaults"`); an
 * unreadable one is an error at line 0. Never throws.
 */
export async function loadPolicyFile(path: string, defaults: readonly PolicyRule[] = DEFAULT_POLICY_RULES): Promise<PolicyLoadResult> {
  let text: string;
  try {
    text = await fsp.readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, rules: [...defaults], file: null, source: "defaults" };
    return { ok: false, errors: [{ line: 0, column: 0, path: "", message: `cannot read ${path}: ${(err as Error).message}` }] };
  }
  return parsePolicyText(text, defaults);
}

type Issue = z.core.$ZodIssue;

/** Map a zod issue to the line/column of the YAML node it is about. */
function issueAt(doc: Document, lc: LineCounter, issue: Issue): PolicyIssue {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const offset = offsetOf(doc, path, issue.code === "unrecognized_keys" ? issue.keys[0] : undefined);
  const { line, col } = lc.linePos(offset);
  const where = formatPath(path);
  return { line, column: col, path: where, message: `${where || "policy"}: ${issue.message}` };
}

/**
 * Start offset of the node at `path`, or of the key `key` inside it; when the path does not
 * exist (a missing required field), the deepest ancestor that does.
 */
function offsetOf(doc: Document, path: Array<string | number>, key?: string): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (!isNode(node)) continue;
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
      if (pair && isNode(pair.key) && pair.key.range) return pair.key.range[0];
    }
    if (node.range) return node.range[0];
  }
  return 0;
}

/** Issues for repeated rule ids in the raw (unvalidated) document. */
function duplicateIdIssues(value: unknown): Issue[] {
  const rules = (value as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) return [];
  const seen = new Set<unknown>();
  const out: Issue[] = [];
  rules.forEach((r, i) => {
    const id = (r as { id?: unknown } | null)?.id;
    if (typeof id !== "string") return;
    if (seen.has(id)) out.push({ code: "custom", path: ["rules", i, "id"], message: `duplicate rule id "${id}"`, input: id });
    seen.add(id);
  });
  return out;
}

function uniqueBy<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => !seen.has(key(t)) && seen.add(key(t)));
}

/** `["rules", 2, "then", "action"]` → `rules[2].then.action`. */
function formatPath(path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}
