/**
 * What an API request body may be, checked by the request guard before Next.js reads a byte
 * (server/http/request-guard.ts: declared length and media type) and by the route wrapper's
 * body reader (app/api/_lib/handler.ts: JSON nesting depth).
 *
 * Why the content type matters: a web page can send a cross-site "simple" request (no CORS
 * preflight) only with `text/plain`, `application/x-www-form-urlencoded` or `multipart/form-data`.
 * Requiring `application/json` (or a YAML type for policies) means no such request reaches a handler.
 */

/** Largest request body, in bytes (1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Deepest nesting of arrays and objects a body may have (a task packet needs about 5). */
export const MAX_BODY_DEPTH = 64;

export type BodyKind = "json" | "yaml";

const MEDIA_TYPES: Record<string, BodyKind> = {
  "application/json": "json",
  "application/yaml": "yaml",
  "application/x-yaml": "yaml",
  "text/yaml": "yaml",
};

/** Paths whose body may be YAML as well as JSON (a repo's policy document). */
export const YAML_BODY_PATH = /^\/api\/v1\/repos\/[^/]+\/policy\/?$/;

/** `application/json; charset=utf-8` → `json`; null for any other or a missing type. */
export function bodyKindOf(contentType: string | null | undefined): BodyKind | null {
  if (!contentType) return null;
  return MEDIA_TYPES[contentType.split(";")[0]!.trim().toLowerCase()] ?? null;
}

/**
 * True when `value` nests arrays/objects deeper than `max` (iterative: a hostile document cannot
 * exhaust the stack here).
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
