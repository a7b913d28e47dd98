/**
 * `npm run docs:events`: rewrite the event catalog between the markers in docs/claws.md from the
 * zod catalog (lib/event-catalog.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { eventCatalogMarkdown } from "@/lib/event-catalog";
import { CATALOG_BEGIN, CATALOG_END, CLAWS_DOC } from "./docs-markers";

const file = path.resolve(import.meta.dirname, "..", CLAWS_DOC);
const text = readFileSync(file, "utf8");
const start = text.indexOf(CATALOG_BEGIN);
const end = text.indexOf(CATALOG_END);
if (start < 0 || end < start) throw new Error(`${CLAWS_DOC}: the catalog markers are missing`);
writeFileSync(file, `${text.slice(0, start + CATALOG_BEGIN.length)}\n${eventCatalogMarkdown()}\n${text.slice(end)}`);
console.log(`${CLAWS_DOC}: event catalog rewritten`);
