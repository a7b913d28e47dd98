/**
 * Keyset ("seek") pagination over rows ordered by `(createdAt, id)`: the cursor is the last
 * row's key, and the next page is the rows strictly after it, so concurrent inserts and deletes
 * never shift a page (unlike OFFSET). The technique: Markus Winand, "Paging Through Results"
 * (use-the-index-luke.com/no-offset). Cursor text: base64url of `<createdAt ms>.<id>`.
 */
import { AppError } from "@/lib/errors";
import type { Page } from "@/lib/paging";

export interface Keyed {
  id: string;
  createdAt: Date;
}

export function encodeCursor(row: Keyed): string {
  return Buffer.from(`${row.createdAt.getTime()}.${row.id}`, "utf8").toString("base64url");
}

/** @throws AppError invalid_input (field `cursor`) for text that is not one of ours */
export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const m = /^(\d{1,15})\.(.{1,200})$/s.exec(text);
  if (!m || Buffer.from(text, "utf8").toString("base64url") !== cursor) {
    throw new AppError("invalid_input", "cursor: not a cursor from this API (pass the `next` of the previous page)", { fields: ["cursor"] });
  }
  return { createdAt: new Date(Number(m[1])), id: m[2]! };
}

/** The Prisma `where` and `orderBy` of the page after `cursor` (first page without one). */
export function keysetQuery(cursor: string | undefined) {
  const orderBy = [{ createdAt: "asc" as const }, { id: "asc" as const }];
  if (!cursor) return { where: {}, orderBy };
  const after = decodeCursor(cursor);
  return { where: { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] }, orderBy };
}

/**
 * Cut `rows` (fetched with `take: limit + 1`) to a page: the extra row only says there is more.
 */
export async function toPage<R extends Keyed, T>(rows: R[], limit: number, view: (rows: R[]) => T[] | Promise<T[]>): Promise<Page<T>> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: await view(kept), next: more ? encodeCursor(kept[kept.length - 1]!) : null };
}
