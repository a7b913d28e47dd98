/**
 * A small seeded pseudo-random generator, so a randomized test, fuzz run or benchmark workload can
 * be replayed from its seed: mulberry32 (Tommy Ettinger, public domain), 32 bits of state.
 * Not for anything that needs unpredictability.
 */

/** Numbers in [0, 1), the same sequence for the same seed (an unsigned 32-bit integer). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
