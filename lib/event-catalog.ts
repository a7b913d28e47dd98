/**
 * The lane event catalog as documentation: each event type with its payload's shape, rendered
 * from the zod catalog (lib/lane-events.ts) through its JSON Schema, so docs/claws.md never
 * drifts from what the server emits (a test compares them; `npm run docs:events` rewrites it).
 */
import { z } from "zod";
import { LANE_EVENT_PAYLOADS, LANE_EVENT_TYPES } from "./lane-events";

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
};

/** A JSON Schema as a compact TypeScript-like type: `{ a: string; b?: number | null }`. */
export function shapeOf(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(shapeOf).join(" | ");
  if (Array.isArray(s.type)) return s.type.map((t) => shapeOf({ ...s, type: t })).join(" | ");
  switch (s.type) {
    case "object": {
      if (!s.properties) return typeof s.additionalProperties === "object" ? `Record<string, ${shapeOf(s.additionalProperties)}>` : "object";
      const req = new Set(s.required ?? []);
      return `{ ${Object.entries(s.properties)
        .map(([k, v]) => `${k}${req.has(k) ? "" : "?"}: ${shapeOf(v)}`)
        .join("; ")} }`;
    }
    case "array":
      return s.items ? `${/[|{]/.test(shapeOf(s.items)) ? `(${shapeOf(s.items)})` : shapeOf(s.items)}[]` : "unknown[]";
    case "integer":
      return "integer";
    case undefined:
      return "unknown";
    default:
      return s.type;
  }
}

/** The catalog as Markdown: one row per event type with its payload shape. */
export function eventCatalogMarkdown(): string {
  const rows = LANE_EVENT_TYPES.map((type) => {
    const schema = z.toJSONSchema(LANE_EVENT_PAYLOADS[type], { io: "output", unrepresentable: "any" }) as JsonSchema;
    return `| \`${type}\` | \`${shapeOf(schema).replaceAll("|", "\\|")}\` |`;
  });
  return ["| type | payload |", "| --- | --- |", ...rows].join("\n");
}
