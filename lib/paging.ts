/**
 * Cursor pagination for list routes (`GET /api/v1/lanes`, `GET /api/v1/repos`): `?limit=&cursor=`
 * → `{ items, next }`. Items are in creation order (oldest first, ties by id); `next` is an
 * opaque cursor to pass as `cursor` for the following page, null on the last page. A cursor
 * names a position, not an offset, so lanes created or removed meanwhile shift nothing: no item
 * is served twice or skipped.
 */
import { z } from "zod";

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT).describe(`Items per page, 1..${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT})`),
  cursor: z.string().min(1).max(512).optional().describe("The `next` of the previous page; absent for the first page"),
});
export type PageQuery = z.infer<typeof PageQuerySchema>;

/** `{ items, next }` for an item schema. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    next: z.string().nullable().describe("Cursor of the next page; null when this is the last"),
  });
}
export type Page<T> = { items: T[]; next: string | null };
