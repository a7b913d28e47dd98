/**
 * Guarded writes that answer with the written row in one statement.
 *
 * A state write is guarded: it lands only if the row still has the state (and version) its
 * writer read, so a stale writer loses. Written as `updateMany` (which tells only how many rows
 * it changed) it needs a second query to read the row back; Prisma's `update` takes the same
 * extra conditions beside the id (`where: { id, state, stateVersion }`) and is one
 * `UPDATE … RETURNING`, failing with P2025 when no row matched.
 */

/** Prisma's "no record found" (P2025: an update's or delete's `where` matched no row). */
export function isRecordNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "P2025";
}

/**
 * Run a guarded `update` (its `where`: the id and the values the writer read).
 * @returns the updated row, or null when no row matched (the row changed meanwhile, or is gone)
 * @throws what the database throws otherwise (nothing was written)
 */
export async function updateIfUnchanged<T>(update: () => Promise<T>): Promise<T | null> {
  try {
    return await update();
  } catch (err) {
    if (isRecordNotFound(err)) return null;
    throw err;
  }
}
