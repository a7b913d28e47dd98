/**
 * Reading related rows for many lanes without one query per lane and without an unbounded `IN`
 * list: ids go to the database in chunks of at most {@link MAX_IN_LIST} bound parameters per
 * query. SQLite (and Prisma's query compiler for it) caps the bound parameters of one statement
 * (999 in older builds: `GET /api/v1/board` failed with P2029 at 1,000 lanes); a chunk leaves room
 * for the query's other parameters.
 */

/** Most ids bound in one `IN (…)` list. */
export const MAX_IN_LIST = 400;

/** `keys` split into chunks of at most `size` (the last may be shorter); no chunk when empty. */
export function chunks<K>(keys: readonly K[], size = MAX_IN_LIST): K[][] {
  const out: K[][] = [];
  for (let i = 0; i < keys.length; i += size) out.push(keys.slice(i, i + size));
  return out;
}

/**
 * Run `query` once per chunk of `keys` (one after another: SQLite serializes them anyway) and
 * concatenate the results in chunk order.
 */
export async function inBatches<K, R>(keys: readonly K[], query: (chunk: K[]) => Promise<R[]>, size = MAX_IN_LIST): Promise<R[]> {
  const out: R[] = [];
  for (const chunk of chunks(keys, size)) out.push(...(await query(chunk)));
  return out;
}
