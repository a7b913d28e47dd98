/**
 * A Map that counts its writes, so a reader can tell "nothing changed since I last looked" from
 * one number instead of comparing every entry (the board's list: server/lanes/lane-views.ts).
 */
export class CountedMap<K, V> extends Map<K, V> {
  /** Writes (set, delete of a present key, clear of a non-empty map) since it was made. */
  changes = 0;

  override set(key: K, value: V): this {
    this.changes++;
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    const had = super.delete(key);
    if (had) this.changes++;
    return had;
  }

  override clear(): void {
    if (this.size > 0) this.changes++;
    super.clear();
  }
}
