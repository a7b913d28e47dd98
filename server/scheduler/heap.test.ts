import { describe, expect, it } from "vitest";
import { IndexedHeap } from "./heap";
import { seededRandom } from "./reference-queue";

type N = { heapPos: number; key: number; id: number };
const less = (a: N, b: N) => a.key - b.key || a.id - b.id;
const sorted = (xs: N[]) => [...xs].sort(less).map((x) => x.id);

describe("IndexedHeap", () => {
  it("matches a sorted array under random push, pop, remove and key updates", () => {
    const rand = seededRandom(7);
    const heap = new IndexedHeap<N>(less);
    const live: N[] = [];
    let id = 0;
    for (let step = 0; step < 5000; step++) {
      const op = rand(10);
      if (op < 4 || live.length === 0) {
        const n = { heapPos: -1, key: rand(100), id: id++ };
        heap.push(n);
        live.push(n);
      } else if (op < 6) {
        const n = live.splice(rand(live.length), 1)[0]!;
        expect(heap.remove(n)).toBe(true);
        expect(heap.remove(n)).toBe(false);
        expect(n.heapPos).toBe(-1);
      } else if (op < 8) {
        const n = live[rand(live.length)]!;
        n.key = rand(100);
        heap.update(n);
      } else {
        const top = heap.pop()!;
        expect(top.id).toBe(sorted(live)[0]);
        live.splice(live.indexOf(top), 1);
      }
      expect(heap.size).toBe(live.length);
      if (live.length) expect(heap.peek()!.id).toBe(sorted(live)[0]);
    }
  });

  it("build heapifies in place and drains in order", () => {
    const rand = seededRandom(3);
    const nodes = Array.from({ length: 1000 }, (_, id) => ({ heapPos: -1, key: rand(50), id }));
    const expected = sorted(nodes);
    const heap = IndexedHeap.build(less, nodes);
    const out: number[] = [];
    for (let n = heap.pop(); n; n = heap.pop()) out.push(n.id);
    expect(out).toEqual(expected);
  });
});
