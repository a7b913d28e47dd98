/**
 * Reusable 1 MiB buffers for outgoing live-output messages (output-fanout.ts): fresh memory for
 * every megabyte of output cost page faults (~800 µs per MiB fresh against ~60 µs reused, this VM).
 */
/** A slab of message memory: `used` bytes handed out; `refs` = messages in it not yet written + 1 while it is still being filled. */
export interface Slab {
  buf: Buffer;
  used: number;
  refs: number;
}

/**
 * Fixed-size buffers for outgoing messages, reused once released by every holder
 * (reference counted). `take` gives a slab with one reference.
 */
export class SlabPool {
  #free: Buffer[] = [];
  /** Slabs allocated since start (diagnostics and tests: reuse keeps this low). */
  allocated = 0;

  constructor(
    readonly slabBytes: number,
    private readonly keepFree: number,
  ) {}

  take(): Slab {
    let buf = this.#free.pop();
    if (!buf) {
      buf = Buffer.allocUnsafeSlow(this.slabBytes);
      this.allocated++;
    }
    return { buf, used: 0, refs: 1 };
  }

  /** Drop one reference; the last one returns the memory to the pool (or to the GC when the pool is full). */
  release(slab: Slab): void {
    if (--slab.refs === 0 && this.#free.length < this.keepFree) this.#free.push(slab.buf);
  }
}
