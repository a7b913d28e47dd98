/**
 * JSON kept in text columns (SQLite has no JSON type, and the PostgreSQL schema mirrors SQLite's):
 * reading one never throws, because a row cut short or written by another version must not take a
 * whole list view down with it.
 */
import type { z } from "zod";

/**
 * Parse `text` as JSON and check it against `schema`.
 * @returns the parsed value, or null when `text` is null/empty, not JSON, or not of the schema's shape.
 */
export function parseJsonColumn<T>(text: string | null | undefined, schema: z.ZodType<T>): T | null {
  if (!text) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
