import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { eventCatalogMarkdown, shapeOf } from "@/lib/event-catalog";
import { LANE_EVENT_TYPES } from "@/lib/lane-events";
import { CATALOG_BEGIN, CATALOG_END, CLAWS_DOC } from "./docs-markers";

describe("the event catalog in docs/claws.md", () => {
  it("is the one generated from lib/lane-events.ts (run npm run docs:events after changing the catalog)", () => {
    const text = readFileSync(path.resolve(import.meta.dirname, "..", CLAWS_DOC), "utf8");
    const inDoc = text.slice(text.indexOf(CATALOG_BEGIN) + CATALOG_BEGIN.length, text.indexOf(CATALOG_END)).trim();
    expect(inDoc).toBe(eventCatalogMarkdown());
    for (const type of LANE_EVENT_TYPES) expect(inDoc).toContain(`| \`${type}\` |`);
  });

  it("renders shapes compactly", () => {
    expect(shapeOf({ type: "object", properties: { a: { type: "string" }, b: { anyOf: [{ type: "integer" }, { type: "null" }] } }, required: ["a"] })).toBe("{ a: string; b?: integer | null }");
    expect(shapeOf({ type: "array", items: { enum: ["x", "y"] } })).toBe('("x" | "y")[]');
  });
});
