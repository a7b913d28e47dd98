/**
 * A JSON Schema (the 2020-12 dialect OpenAPI 3.1 uses) as a readable tree: each property with its
 * type, whether it is required, and its description; `$ref`s to named schemas link to their
 * entry in the reference's "Schemas" section. Server-rendered, no script needed.
 */
import type { ReactNode } from "react";

/** The parts of a JSON Schema the tree shows; anything else is ignored. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  format?: string;
}

/** `#/components/schemas/Error` → `Error`. */
export function refName(ref: string): string {
  return ref.split("/").pop() ?? ref;
}

/** Text with `code` spans (the API's descriptions use Markdown backticks). */
export function Prose({ text, className = "" }: { text?: string; className?: string }) {
  if (!text) return null;
  const parts = text.split(/(`[^`]+`)/g);
  return (
    <p className={`leading-relaxed text-zinc-300 ${className}`}>
      {parts.map((p, i) =>
        p.startsWith("`") && p.endsWith("`") && p.length > 1 ? (
          <code key={i} className="rounded bg-zinc-800/80 px-1 font-mono text-[0.92em] text-sky-200">
            {p.slice(1, -1)}
          </code>
        ) : (
          p
        ),
      )}
    </p>
  );
}

/** One line summary of a schema's type: `string`, `array of LaneView`, `"ff" | "merge"`, … */
export function typeLabel(s: JsonSchema): ReactNode {
  if (s.$ref) {
    const name = refName(s.$ref);
    return (
      <a href={`#schema-${name}`} className="text-sky-300 hover:underline">
        {name}
      </a>
    );
  }
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const variants = s.anyOf ?? s.oneOf;
  if (variants) {
    return variants.map((v, i) => (
      <span key={i}>
        {i > 0 && " | "}
        {typeLabel(v)}
      </span>
    ));
  }
  if (s.type === "array" && s.items) return <>array of {typeLabel(s.items)}</>;
  if (s.type === "object" && !s.properties && s.additionalProperties && typeof s.additionalProperties === "object") return <>map of {typeLabel(s.additionalProperties)}</>;
  const t = Array.isArray(s.type) ? s.type.join(" | ") : (s.type ?? (s.allOf ? "all of" : "any"));
  return s.format ? `${t} (${s.format})` : t;
}

/** Bounds and defaults worth a mention. */
function constraints(s: JsonSchema): string {
  const out: string[] = [];
  if (s.minimum !== undefined || s.maximum !== undefined) out.push(`${s.minimum ?? "…"}..${s.maximum ?? "…"}`);
  if (s.maxLength !== undefined) out.push(`≤ ${s.maxLength} chars`);
  if (s.default !== undefined) out.push(`default ${JSON.stringify(s.default)}`);
  return out.join(", ");
}

/** The object a schema describes inline, if any (through an array, a nullable union or a map). */
function inlineObject(s: JsonSchema): JsonSchema | null {
  if (s.properties) return s;
  if (s.type === "array" && s.items) return inlineObject(s.items);
  const variants = (s.anyOf ?? s.oneOf)?.filter((v) => v.type !== "null");
  if (variants?.length === 1) return inlineObject(variants[0]!);
  if (s.additionalProperties && typeof s.additionalProperties === "object") return inlineObject(s.additionalProperties);
  return null;
}

/** The properties of an object schema as a nested list (depth-limited: deeper levels are one line each). */
export function SchemaTree({ schema, depth = 0 }: { schema: JsonSchema; depth?: number }) {
  const obj = inlineObject(schema);
  const variants = !obj ? (schema.anyOf ?? schema.oneOf)?.filter((v) => inlineObject(v)) : undefined;
  if (!obj && variants?.length) {
    return (
      <ul className="flex flex-col gap-2">
        {variants.map((v, i) => (
          <li key={i} className="rounded border border-zinc-800 p-2">
            <div className="mb-1 text-[11px] uppercase tracking-wide text-zinc-500">variant {i + 1}</div>
            <SchemaTree schema={v} depth={depth + 1} />
          </li>
        ))}
      </ul>
    );
  }
  if (!obj) return <div className="font-mono text-xs text-zinc-300">{typeLabel(schema)}</div>;
  const required = new Set(obj.required ?? []);
  return (
    <ul className={depth > 0 ? "ml-3 border-l border-zinc-800 pl-3" : ""}>
      {Object.entries(obj.properties ?? {}).map(([name, prop]) => {
        const extra = constraints(prop);
        return (
          <li key={name} className="py-1">
            <div className="flex flex-wrap items-baseline gap-x-2 font-mono text-xs">
              <span className="text-zinc-100">{name}</span>
              <span className="text-emerald-300/90">{typeLabel(prop)}</span>
              {required.has(name) ? <span className="text-[10px] uppercase text-amber-300/90">required</span> : null}
              {extra ? <span className="text-zinc-500">{extra}</span> : null}
            </div>
            <Prose text={prop.description} className="text-xs text-zinc-400" />
            {depth < 3 && inlineObject(prop) && !prop.$ref ? <SchemaTree schema={prop} depth={depth + 1} /> : null}
          </li>
        );
      })}
    </ul>
  );
}
