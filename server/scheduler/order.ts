/**
 * The dispatch order's comparators and the one constructor of queue items (shared by the
 * {@link DispatchQueue}, its naive reference and the position simulation).
 */
import { IndexedHeap, type HeapNode } from "./heap";
import type { QueueItem } from "./types";

/** Inside a repo: priority desc, deadline asc (null last), enqueuedAt asc, seq asc. */
export function compareItems(a: QueueItem, b: QueueItem): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.deadline !== b.deadline) {
    if (a.deadline === null) return 1;
    if (b.deadline === null) return -1;
    return a.deadline - b.deadline;
  }
  if (a.enqueuedAt !== b.enqueuedAt) return a.enqueuedAt - b.enqueuedAt;
  return a.seq - b.seq;
}

/** Between repos: head priority band, then fair-share tag, then the heads. */
export function compareHeads(aTag: number, a: QueueItem, bTag: number, b: QueueItem): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (aTag !== bTag) return aTag - bTag;
  return compareItems(a, b);
}

/** Every item built here, so all share one object shape (monomorphic comparators). */
export const toItem = (r: Omit<QueueItem, "seq" | "engine"> & { engine?: string | null }, seq: number): QueueItem => ({
  laneId: r.laneId,
  repoId: r.repoId,
  pool: r.pool,
  priority: r.priority,
  deadline: r.deadline,
  enqueuedAt: r.enqueuedAt,
  seq,
  engine: r.engine ?? null,
});

/**
 * The order in which the dispatch queue would start these lanes if no cap or gate intervened:
 * the same comparators and Start-time Fair Queueing tag rule as `DispatchQueue.next`, replayed
 * on copies. `repos[].items` is sorted in place. O(n log n).
 * @returns laneId → 1-based position.
 */
export function simulateOrder(repos: Array<{ repoId: string; tag: number; items: QueueItem[] }>, vtime: number, weightOf: (repoId: string) => number): Map<string, number> {
  type Cursor = HeapNode & { repoId: string; items: QueueItem[]; i: number; tag: number };
  const cursors: Cursor[] = repos.map((r) => ({ repoId: r.repoId, items: r.items.sort(compareItems), i: 0, tag: r.tag, heapPos: -1 }));
  const heap = IndexedHeap.build<Cursor>((a, b) => compareHeads(a.tag, a.items[a.i]!, b.tag, b.items[b.i]!), cursors.filter((c) => c.items.length));
  const map = new Map<string, number>();
  for (let c = heap.peek(); c; c = heap.peek()) {
    map.set(c.items[c.i]!.laneId, map.size + 1);
    vtime = Math.max(c.tag, vtime);
    c.tag = vtime + 1 / weightOf(c.repoId);
    if (++c.i < c.items.length) heap.update(c);
    else heap.pop();
  }
  return map;
}
