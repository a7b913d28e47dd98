/**
 * One consumer waiting for "something new": a producer calls {@link Wakeup.notify}, the consumer
 * awaits {@link Wakeup.wait}; an AbortSignal given to the constructor also wakes it, so a loop
 * `while (!signal.aborted) { …; await wakeup.wait(); }` ends promptly when its client goes away.
 * A notify with nobody waiting is dropped: the consumer checks its queue before it waits.
 */
export class Wakeup {
  #wake: (() => void) | null = null;
  readonly #onAbort = () => this.notify();

  constructor(private readonly signal?: AbortSignal) {
    signal?.addEventListener("abort", this.#onAbort);
  }

  notify(): void {
    this.#wake?.();
  }

  /** Resolves at the next notify (or abort; at once when already aborted). */
  wait(): Promise<void> {
    if (this.signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#wake = resolve)).finally(() => (this.#wake = null));
  }

  /** Stop listening to the signal. */
  close(): void {
    this.signal?.removeEventListener("abort", this.#onAbort);
  }
}
