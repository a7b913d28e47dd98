/**
 * DiskWatch: a write refused for lack of space makes the disk full at once, even when statfs
 * shows room (an episode shorter than the sampling period, a quota); the way back waits until
 * what was kept has landed, and is then seen by the watch itself, without an outside tick.
 */
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { DiskWatch, MIN_FREE_BYTES } from "./disk-watch";

let dir: string;
let watch: DiskWatch | null = null;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-disk-watch-"));
});
afterEach(async () => {
  watch?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The error a real write to a full device throws (ENOSPC). */
function enospc(): unknown {
  try {
    writeFileSync("/dev/full", "x");
  } catch (err) {
    return err;
  }
  throw new Error("/dev/full took a write");
}

it("calls the disk full on a write refused with ENOSPC, stays full while kept data waits, and sees room again by itself", async () => {
  const changes: { full: boolean; freeBytes: number }[] = [];
  let waiting = true;
  let onChange: () => void = () => undefined;
  watch = new DiskWatch([dir], { waiting: () => waiting, onChange: (full, freeBytes) => (changes.push({ full, freeBytes }), onChange()) }, 20);

  await watch.check(); // a temp dir with room: nothing to say
  await watch.refused(new Error("database or disk is full, says a client's text")); // not a storage refusal
  expect(changes).toEqual([]);
  expect(watch.full).toBe(false);

  await watch.refused(enospc());
  expect(watch.full).toBe(true);
  expect(changes).toEqual([{ full: true, freeBytes: expect.any(Number) }]);
  expect(changes[0]!.freeBytes).toBeGreaterThanOrEqual(MIN_FREE_BYTES); // statfs shows room: only the refusal says full

  await watch.refused(enospc()); // already full: one edge, not two
  await watch.check(); // room on statfs, but the refused write is still kept: no flapping
  expect(changes).toHaveLength(1);

  const roomAgain = new Promise<void>((resolve) => (onChange = resolve));
  waiting = false; // what was kept has landed
  await roomAgain; // the watch's own check while full, no outside tick
  expect(watch.full).toBe(false);
  expect(changes.map((c) => c.full)).toEqual([true, false]);
});
