/**
 * An intrusive, indexed binary min-heap: every element carries its own slot index
 * (`heapPos`, -1 when outside any heap), so `remove` and `update` of an arbitrary element are
 * O(log n) without a side map. An element may sit in at most one heap at a time.
 *
 * Algorithm: the textbook array-backed binary heap (Williams 1964; CLRS ch. 6), with
 * bottom-up heapify for `build` (Floyd 1964, O(n)).
 */

export interface HeapNode {
  /** Slot in the heap array; -1 when the node is in no heap. Managed by {@link IndexedHeap}. */
  heapPos: number;
}

/** Negative when `a` must come out before `b`. */
export type Compare<T> = (a: T, b: T) => number;

export class IndexedHeap<T extends HeapNode> {
  #a: T[] = [];

  constructor(private readonly less: Compare<T>) {}

  /** Build from an array in O(n) (the array is taken over, not copied). */
  static build<T extends HeapNode>(less: Compare<T>, items: T[]): IndexedHeap<T> {
    const h = new IndexedHeap<T>(less);
    h.#a = items;
    items.forEach((x, i) => (x.heapPos = i));
    for (let i = (items.length >> 1) - 1; i >= 0; i--) h.#down(i);
    return h;
  }

  get size(): number {
    return this.#a.length;
  }

  peek(): T | undefined {
    return this.#a[0];
  }

  /** Elements in heap (not sorted) order; do not mutate. */
  values(): readonly T[] {
    return this.#a;
  }

  has(x: T): boolean {
    return x.heapPos >= 0 && this.#a[x.heapPos] === x;
  }

  push(x: T): void {
    x.heapPos = this.#a.length;
    this.#a.push(x);
    this.#up(x.heapPos);
  }

  pop(): T | undefined {
    const top = this.#a[0];
    if (top) this.remove(top);
    return top;
  }

  /** Remove `x`; returns false if it is not in this heap. */
  remove(x: T): boolean {
    if (!this.has(x)) return false;
    const i = x.heapPos;
    const last = this.#a.pop()!;
    x.heapPos = -1;
    if (last !== x) {
      this.#place(i, last);
      this.#fix(i);
    }
    return true;
  }

  /** Restore order after `x`'s key changed (either direction). */
  update(x: T): void {
    if (this.has(x)) this.#fix(x.heapPos);
  }

  #fix(i: number): void {
    if (i > 0 && this.less(this.#a[i]!, this.#a[(i - 1) >> 1]!) < 0) this.#up(i);
    else this.#down(i);
  }

  #up(i: number): void {
    const a = this.#a;
    const x = a[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p]!;
      if (this.less(x, parent) >= 0) break;
      this.#place(i, parent);
      i = p;
    }
    this.#place(i, x);
  }

  #down(i: number): void {
    const a = this.#a;
    const n = a.length;
    const x = a[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(a[c + 1]!, a[c]!) < 0) c++;
      const child = a[c]!;
      if (this.less(child, x) >= 0) break;
      this.#place(i, child);
      i = c;
    }
    this.#place(i, x);
  }

  /** Put `node` at slot `i` and record that slot on the node (what `remove` and `update` find it by). */
  #place(i: number, node: T): void {
    this.#a[i] = node;
    node.heapPos = i;
  }
}
