/**
 * -1, 0 or 1 as `a` sorts before, with or after `b` by UTF-16 code units, not by locale: for
 * ISO 8601 UTC times of one format that is time order, and it is several times cheaper than
 * `localeCompare` (the board sorts a thousand lanes on every change).
 */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
